"""
The heavy step of examples/dags/spark_pipeline.ts, on Spark: revenue per
country and day over the generated orders CSV.

    aggregate_orders.py <input CSV> <output folder>

Writes one JSON Lines file (part-*.json) into the output folder. The input and
output must be on storage the driver and the executors can all read: one
machine's disk for a single-machine standalone cluster, else a shared
filesystem or an object store (s3a://...).
"""
import sys

from pyspark.sql import SparkSession, functions as F
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

src, out = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.appName("spark_pipeline.aggregate").getOrCreate()

schema = StructType(
    [
        StructField("order_id", LongType()),
        StructField("day", StringType()),
        StructField("country", StringType()),
        StructField("amount", DoubleType()),
        StructField("items", LongType()),
    ]
)
orders = spark.read.csv(src, header=True, schema=schema)
summary = (
    orders.where(F.col("amount") > 0)
    .groupBy("country", "day")
    .agg(
        F.count("*").alias("orders"),
        F.round(F.sum("amount"), 2).alias("revenue"),
        F.sum("items").alias("items"),
        F.round(F.avg("amount"), 2).alias("avg_order"),
    )
    .orderBy("country", "day")
)
summary.coalesce(1).write.mode("overwrite").json(out)
print(f"aggregated {orders.count()} orders into {summary.count()} country-days -> {out}", flush=True)
spark.stop()
