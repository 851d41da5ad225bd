"""Thin sources and sinks: Kafka / Delta / JDBC on Databricks, files and memory locally.

Each edge only reads or writes; all logic lives in streaming_jobs.transforms.
"""
