"""Triggers and the source/sink interfaces the jobs are written against."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery


@dataclass(frozen=True)
class Trigger:
    """processing_time=None and available_now=False: run micro-batches back to back (lowest latency)."""

    processing_time: str | None = None
    available_now: bool = False

    def apply(self, writer: DataStreamWriter) -> DataStreamWriter:
        if self.available_now:
            return writer.trigger(availableNow=True)
        if self.processing_time:
            return writer.trigger(processingTime=self.processing_time)
        return writer


def checkpoint_for(root: str, query_name: str) -> str:
    """<root>/<query name>: stable across deploys, so a redeploy resumes where the last run stopped."""
    return f"{root.rstrip('/')}/{query_name}"


class StreamSource(Protocol):
    def read(self, spark: SparkSession) -> DataFrame: ...


class StreamSink(Protocol):
    def start(self, df: DataFrame, query_name: str, checkpoint: str, trigger: Trigger) -> StreamingQuery: ...


class BatchAppender(Protocol):
    """A table appended once per micro-batch from foreachBatch; a batch already committed by this writer
    (after a crash between the table commit and Spark's) is skipped, so a replay adds nothing."""

    def append(self, rows: DataFrame, batch_id: int, writer_id: str) -> bool: ...


@contextmanager
def materialised(batch: DataFrame) -> Iterator[DataFrame]:
    """A foreachBatch micro-batch computed once, for a function that reads it more than once.

    A stateful query's micro-batch must not be recomputed per read (the parse and the state store would
    run again). A local checkpoint keeps Spark's binary rows as they are, in memory and spilling to disk;
    `persist()` converts them to the columnar cache format and back, which cost silver more than its
    two table writes together (benchmarks/bench_silver_batch.py). If an executor holding part of the
    batch is lost, the batch fails instead of being recomputed: the query restarts from its checkpoint
    and replays it, so every append made from it must be idempotent per (query, batch).

    The rows are released on exit. `unpersist()` does not reach a local checkpoint, whose blocks would
    otherwise stay until the driver's garbage collector finds the RDD: a micro-batch's worth per batch.
    """
    # Deserialized: PySpark's MEMORY_AND_DISK is the serialized level, which runs every row through
    # spark.serializer (Java serialization by default); kept as objects, silver's batch took 1.15x less.
    rows = batch.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK_DESER)
    try:
        yield rows
    finally:
        # The checkpointed plan is a LogicalRDD over the checkpoint's RDD; its blocks are that RDD's.
        rows._jdf.queryExecution().analyzed().rdd().unpersist(False)
