"""Triggers and the source/sink interfaces the jobs are written against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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
