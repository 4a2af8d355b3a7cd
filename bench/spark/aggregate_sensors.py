"""The parallelData benchmark's aggregation on Spark: per sensor, row count,
sum of y, min and max of x3, over the generated CSV (argv[1]); prints one
RESULT line of JSON so the benchmark can compare it with the DuckDB runs."""
import json
import sys

from pyspark.sql import SparkSession, functions as F
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

spark = SparkSession.builder.appName("sluice-bench-aggregate").getOrCreate()
schema = StructType([
    StructField("id", LongType()), StructField("sensor", StringType()), StructField("x1", DoubleType()),
    StructField("x2", DoubleType()), StructField("x3", DoubleType()), StructField("y", DoubleType()),
])
rows = (
    spark.read.csv(sys.argv[1], header=True, schema=schema)
    .groupBy("sensor")
    .agg(F.count("*").alias("n"), F.sum("y").alias("sy"), F.min("x3").alias("mn"), F.max("x3").alias("mx"))
    .collect()
)
print("RESULT " + json.dumps([r.asDict() for r in rows]), flush=True)
spark.stop()
