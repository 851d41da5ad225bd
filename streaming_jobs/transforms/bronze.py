"""Shape whatever the source delivered into the bronze schema: the payload untouched plus lineage."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)


def bronze_from_kafka(kafka: DataFrame) -> DataFrame:
    """Kafka source rows (Event Hubs or Confluent) -> bronze.

    ingest_time is the micro-batch timestamp (current_timestamp in a stream),
    which Spark records in the offset log: a replayed batch gets the same value,
    so silver's lateness decision is the same on every replay.
    """
    return kafka.select(
        F.col("value").cast("string").alias("payload"),
        F.col("key").cast("string").alias("kafka_key"),
        F.col("topic"),
        F.col("partition").cast("int").alias("partition"),
        F.col("offset").cast("long").alias("offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.lit(None).cast("string").alias("source_file"),
        F.current_timestamp().alias("ingest_time"),
    )


def bronze_from_landing(lines: DataFrame, topic: str = "landing") -> DataFrame:
    """Text-source rows of the local landing directory (one JSON event per line) -> bronze."""
    return lines.select(
        F.col("value").alias("payload"),
        F.lit(None).cast("string").alias("kafka_key"),
        F.lit(topic).alias("topic"),
        F.lit(None).cast("int").alias("partition"),
        F.lit(None).cast("long").alias("offset"),
        F.col("_metadata.file_modification_time").alias("kafka_timestamp"),
        F.col("_metadata.file_path").alias("source_file"),
        F.current_timestamp().alias("ingest_time"),
    )
