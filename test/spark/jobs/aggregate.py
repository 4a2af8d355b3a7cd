"""Sums and counts per key of a CSV (key,value); writes them as JSON to argv[2] and prints them."""
import json
import sys

from pyspark.sql import SparkSession, functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

src, out = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.appName("sluice-test-aggregate").getOrCreate()
schema = StructType([StructField("key", StringType()), StructField("value", LongType())])
rows = (
    spark.read.csv(src, header=True, schema=schema)
    .groupBy("key")
    .agg(F.count("*").alias("n"), F.sum("value").alias("total"))
    .collect()
)
result = {r["key"]: {"n": r["n"], "total": r["total"]} for r in rows}
with open(out, "w") as f:
    json.dump(result, f, sort_keys=True)
print("RESULT " + json.dumps(result, sort_keys=True), flush=True)
spark.stop()
