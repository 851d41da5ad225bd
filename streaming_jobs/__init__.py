"""Trading-event streaming jobs: bronze -> silver -> gold on Structured Streaming.

Transformations are pure DataFrame functions; sources and sinks are thin edges
chosen by parameters, so the same code runs on Databricks and on local Spark.
"""
