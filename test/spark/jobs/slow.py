"""Registers with the master, then runs tasks that sleep far longer than any test waits."""
import sys
import time

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName(sys.argv[1] if len(sys.argv) > 1 else "sluice-test-slow").getOrCreate()
print("SLOW STARTED", flush=True)
spark.sparkContext.parallelize(range(2), 2).map(lambda x: time.sleep(600) or x).collect()
