"""The de-duplication's horizon, as a stream: a copy silver can still accept always finds its first copy's
state, nothing is dropped by Spark's late-row filter, and the state is released after the horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.streaming.listener import StreamingQueryProgress

from streaming_jobs.config import Interval, ValidationRules, parse_interval
from streaming_jobs.generator.events import trade_payload
from streaming_jobs.io.files import ParquetSource
from streaming_jobs.schemas import BRONZE_SCHEMA
from streaming_jobs.transforms.dedupe import PROBE, dedupe_stream
from streaming_jobs.transforms.parse import parse_events
from streaming_jobs.transforms.validate import ACCEPTED, classify_events
from tests.streaming.bronze_files import BronzeRow, trade, write_bronze_files
from tests.streaming.conftest import shuffle_partitions

pytestmark = pytest.mark.spark

T0 = datetime(2026, 3, 2, 14, 30, 0, tzinfo=UTC)
RULES = ValidationRules(symbols=("AAPL",), watermark=parse_interval("30 seconds", "w"))  # max future skew 1 min
W, S = RULES.watermark.seconds, RULES.max_future_skew.seconds


def _payload(event_id: str, event_time: datetime) -> str:
    return trade_payload(trade(event_id, event_time))


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# One bronze file per micro-batch: (event id, event time, ingestion time). "first" is ingested as far
# ahead of its event time as silver allows (just inside the future skew); its copy arrives as late as
# silver still accepts it (just inside the watermark), W + S - 2 s after the first copy. Fillers move
# the ingestion clock on; the last two move it past every horizon.
LAST_COPY_AT = S - 1 + W - 1
BATCHES = [
    [("first", _at(S - 1), _at(0))],
    [("filler-1", _at(45), _at(45))],
    [("filler-2", _at(LAST_COPY_AT), _at(LAST_COPY_AT))],
    [("filler-3", _at(LAST_COPY_AT), _at(LAST_COPY_AT))],
    [("first", _at(S - 1), _at(LAST_COPY_AT)), ("filler-4", _at(LAST_COPY_AT), _at(LAST_COPY_AT))],
    [("filler-5", _at(400), _at(400))],
    [("filler-6", _at(400), _at(400))],
]


def _bronze_dir(spark: SparkSession, root: Path, batches: int) -> Path:
    """The first `batches` batches as parquet files in ingestion order (the file source reads the oldest first)."""
    files = [[BronzeRow(_payload(eid, et), it) for eid, et, it in batch] for batch in BATCHES[:batches]]
    return write_bronze_files(spark, root, files)


def _run(
    spark: SparkSession, root: Path, delay: Interval, batches: int = len(BATCHES)
) -> tuple[list[list[str]], list[StreamingQueryProgress]]:
    """The batches through the de-duplication, one micro-batch each. One shuffle partition: every id
    meets the same state store either way, and each micro-batch opens one store instead of two."""
    accepted: list[list[str]] = []

    def collect(batch: DataFrame, _: int) -> None:
        # The ids the state lets through (one probe each; the copy kept is test_first_copy's subject).
        new_ids = batch.filter(F.col(PROBE) & F.col(ACCEPTED)).select("event_id").collect()
        accepted.append(sorted(r.event_id for r in new_ids))

    source = _bronze_dir(spark, root, batches)
    bronze = ParquetSource(str(source), BRONZE_SCHEMA, max_files_per_trigger=1).read(spark)
    with shuffle_partitions(spark, 1):
        query = (
            dedupe_stream(classify_events(parse_events(bronze), RULES), delay)
            .writeStream.option("checkpointLocation", str(root / "checkpoint"))
            .foreachBatch(collect)
            .trigger(availableNow=True)
            .start()
        )
    query.awaitTermination()
    assert query.exception() is None
    return accepted, list(query.recentProgress)


def test_the_last_acceptable_copy_still_finds_the_first(spark: SparkSession, tmp_path: Path) -> None:
    accepted, progress = _run(spark, tmp_path, RULES.dedupe_delay)
    assert len(accepted) == len(BATCHES), "one micro-batch per bronze file"
    assert accepted[0] == ["first"], "the first copy, just inside the future skew, is accepted"
    assert accepted[4] == ["filler-4"], "its copy, just inside the watermark, is dropped as a duplicate"
    assert sum(p.stateOperators[0].numRowsDroppedByWatermark for p in progress) == 0
    assert progress[-1].stateOperators[0].numRowsTotal == 2, "every id older than the horizon is released"


def test_a_shorter_horizon_would_let_that_copy_through(spark: SparkSession, tmp_path: Path) -> None:
    """The boundary above is sharp: 2 x 40 s < W + S, so the first copy's state is gone in time."""
    accepted, _ = _run(spark, tmp_path, Interval.of_seconds(40), batches=5)
    assert accepted[4] == ["filler-4", "first"]


def test_dedupe_delay_is_half_the_copy_gap_and_a_second() -> None:
    assert RULES.dedupe_delay == Interval("46 seconds", 46.0)
    wide = ValidationRules(symbols=("A",), watermark=parse_interval("5 minutes", "w"))
    assert 2 * wide.dedupe_delay.seconds > wide.watermark.seconds + wide.max_future_skew.seconds
