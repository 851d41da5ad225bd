"""Triggers and the source/sink interfaces the jobs are written against."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery
from pyspark.util import inheritable_thread_target

T = TypeVar("T")


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


def concurrently(spark: SparkSession, first: Callable[[], T], *others: Callable[[], T]) -> list[T]:
    """Each call's result, in order, the calls run at once: `first` in this thread, each other one in a thread
    of its own. Returns or raises only when every call has ended; a failure raises (the first one in call
    order), after the others have finished, so nothing of the micro-batch is still writing when it fails.

    foreachBatch runs its writes one after another ("writing to multiple sinks with foreachBatch serializes
    the execution of streaming writes, which can increase latency for each micro-batch": Databricks,
    "Use foreachBatch to write to arbitrary data sinks", Write to multiple locations). Spark runs jobs
    submitted from several threads side by side. Each other thread starts with a copy of this thread's
    Spark local properties, taken by PySpark's inheritable_thread_target (given the session, it also
    carries Spark Connect's thread state and the session's tags): the stream's job group, which stopping
    the query cancels (`spark.jobGroup.id`, interruptOnCancel), and the micro-batch's root SQL execution,
    under which its writes nest as they would in this thread.
    """
    # Leaving the pool's block waits for every submitted call, also when `first` raised.
    with ThreadPoolExecutor(max_workers=max(len(others), 1), thread_name_prefix="foreach-batch") as pool:
        futures = [pool.submit(inheritable_thread_target(spark)(call)) for call in others]
        result = first()
    return [result, *(f.result() for f in futures)]
