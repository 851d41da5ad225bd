"""Local edges: the generator's landing directory, parquet directories as tables, the memory sink.

Parquet written by the streaming file sink is exactly-once for readers: its
_spark_metadata log lists only committed files, and Spark's readers use it.
A BatchDirTable is the local stand-in for a Delta table appended from
foreachBatch with txnAppId/txnVersion: one directory per (writer, batch),
renamed into place whole, skipped when it already exists.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class BatchDirTable:
    """A parquet table written one micro-batch at a time: `<path>/batch-<writer>-<batch>/part-*.parquet`.

    A batch is written under `<path>/_staging` and renamed into place (atomic on a local file
    system), so a reader never sees part of one; a batch whose directory exists was committed
    before a crash and is skipped, so a replayed batch adds nothing.
    """

    path: str
    schema: T.StructType

    def batch_dir(self, batch_id: int, writer_id: str) -> Path:
        return Path(self.path) / f"batch-{writer_id}-{batch_id:012d}"

    def append(self, rows: DataFrame, batch_id: int, writer_id: str) -> bool:
        final = self.batch_dir(batch_id, writer_id)
        if final.exists():
            return False
        staging = Path(self.path) / "_staging" / f"{final.name}-{uuid.uuid4().hex}"
        # One file per partition whatever spark.sql.files.maxRecordsPerFile says (jobs.silver.one_file).
        rows.write.option("maxRecordsPerFile", 0).parquet(str(staging))
        os.replace(staging, final)
        return True

    @property
    def files(self) -> str:
        return f"{self.path.rstrip('/')}/batch-*"

    def read_stream(self, spark: SparkSession, max_files_per_trigger: int | None = None) -> DataFrame:
        reader = spark.readStream.schema(self.schema)
        if max_files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", max_files_per_trigger)
        return reader.parquet(self.files)

    def read(self, spark: SparkSession) -> DataFrame:
        """The committed rows (empty before the first batch)."""
        if not any(Path(self.path).glob("batch-*")):
            return spark.createDataFrame([], self.schema)
        return spark.read.schema(self.schema).parquet(self.files)
