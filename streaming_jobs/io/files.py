"""Local edges: the generator's landing directory, parquet directories as tables, the memory sink.

Parquet written by the streaming file sink is exactly-once for readers: its
_spark_metadata log lists only committed files, and Spark's readers use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T  # noqa: N812 (PySpark convention)
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.io.streams import Trigger
from streaming_jobs.transforms.bronze import bronze_from_landing


@dataclass(frozen=True)
class LandingSource:
    """JSON-lines files dropped by the generator (hidden temp names, then an atomic rename)."""

    path: str
    max_files_per_trigger: int | None = None
    # "delete" (or "archive") landing files once a committed batch has read them: keeps the directory
    # the source lists on every trigger small during long runs. None keeps them.
    clean_source: str | None = None

    def read(self, spark: SparkSession) -> DataFrame:
        reader = spark.readStream.format("text")
        if self.max_files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", self.max_files_per_trigger)
        if self.clean_source:
            reader = reader.option("cleanSource", self.clean_source)
        return bronze_from_landing(reader.load(self.path))


@dataclass(frozen=True)
class ParquetSource:
    path: str
    schema: T.StructType
    max_files_per_trigger: int | None = None

    def read(self, spark: SparkSession) -> DataFrame:
        reader = spark.readStream.schema(self.schema)
        if self.max_files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", self.max_files_per_trigger)
        return reader.parquet(self.path)


@dataclass(frozen=True)
class ParquetSink:
    path: str

    def start(self, df: DataFrame, query_name: str, checkpoint: str, trigger: Trigger) -> StreamingQuery:
        writer = (
            df.writeStream.format("parquet")
            .queryName(query_name)
            .option("path", self.path)
            .option("checkpointLocation", checkpoint)
            .outputMode("append")
        )
        return trigger.apply(writer).start()


@dataclass(frozen=True)
class MemorySink:
    """An in-memory table named like the query (tests)."""

    def start(self, df: DataFrame, query_name: str, checkpoint: str, trigger: Trigger) -> StreamingQuery:
        writer = (
            df.writeStream.format("memory")
            .queryName(query_name)
            .option("checkpointLocation", checkpoint)
            .outputMode("append")
        )
        return trigger.apply(writer).start()
