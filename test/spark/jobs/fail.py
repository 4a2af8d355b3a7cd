"""Starts a Spark application, runs one small job, then fails the way user code does."""
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("sluice-test-fail").getOrCreate()
n = spark.range(10).count()
raise ValueError(f"sluice-test: refusing to continue after counting {n} rows")
