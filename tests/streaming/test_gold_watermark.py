"""Gold's watermark drops no accepted event, however many part files silver writes and however few files
gold reads per trigger (issue 32, class 5).

Each silver micro-batch here mixes two bronze ingestions 100 s apart: events ingested first and nearly
a watermark late, events ingested next and nearly the future skew ahead. Gold's state delay is
watermark + skew, so it covers the spread of one ingestion order, not a later ingestion read before an
earlier one: if gold read part of a silver batch (a part file holding the later ingestion) in one
trigger and the rest in the next, the earlier events' windows would be behind its watermark and Spark
would drop them. Silver runs with 8 shuffle partitions (Databricks' default is 200), gold takes one
file per trigger.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from streaming_jobs.config import ValidationRules, parse_interval
from streaming_jobs.io.files import ParquetSource
from streaming_jobs.io.streams import Trigger
from streaming_jobs.jobs.silver import SilverBatchWriter, start_silver
from streaming_jobs.local_pipeline import LocalPaths, PipelineSettings, start_stage
from streaming_jobs.schemas import BRONZE_SCHEMA
from streaming_jobs.serving.connections import SqliteSession
from tests.streaming.bronze_files import payload_rows, trade, write_bronze_files
from tests.streaming.conftest import shuffle_partitions
from tests.streaming.gold_checks import assert_gold_matches
from tests.streaming.reference import gold_reference

pytestmark = pytest.mark.spark

T0 = datetime(2026, 3, 2, 14, 30, 0, tzinfo=UTC)
RULES = ValidationRules(symbols=("AAPL", "MSFT"), watermark=parse_interval("30 seconds", "w"))  # skew 1 min
W, S = int(RULES.watermark.seconds), int(RULES.max_future_skew.seconds)
WINDOW = parse_interval("10 seconds", "--window")
PARTITIONS = 8


def _ingestion(k: int):  # type: ignore[no-untyped-def]
    """Bronze file k: 12 events ingested at T0 + 100 k s; even k nearly a watermark late, odd k nearly a
    skew ahead, each event in a window of its own symbol."""
    ingested = T0 + timedelta(seconds=100 * k)
    offset = -(W - 3) if k % 2 == 0 else S - 1
    return [
        (
            trade(
                f"e{k}-{i:02d}",
                ingested + timedelta(seconds=offset - i % 3),
                f"{100 + k}.{i:02d}",
                ("AAPL", "MSFT")[i % 2],
            ),
            ingested,
        )
        for i in range(12)
    ]


def test_gold_reads_every_accepted_event_of_split_silver_batches(spark: SparkSession, tmp_path: Path) -> None:
    ingestions = [_ingestion(k) for k in range(4)]
    bronze = write_bronze_files(spark, tmp_path, [payload_rows(rows) for rows in ingestions])
    paths = LocalPaths(tmp_path / "pipeline")
    paths.create()
    settings = PipelineSettings(rules=RULES, window=WINDOW, max_silver_files_per_trigger=1)
    with shuffle_partitions(spark, PARTITIONS):
        # Silver: two micro-batches of two bronze files (two ingestions) each.
        writer = SilverBatchWriter(paths.silver_table, paths.quarantine_table, RULES)
        source = ParquetSource(str(bronze), BRONZE_SCHEMA, max_files_per_trigger=2).read(spark)
        silver = start_silver(source, RULES, writer, str(paths.checkpoints), Trigger(available_now=True))
        silver.awaitTermination()
        assert silver.exception() is None
    dedupe = [p.stateOperators[0] for p in silver.recentProgress if p.numInputRows]
    assert len(dedupe) == 2 and all(op.numShufflePartitions == PARTITIONS for op in dedupe)
    # Gold's own partition count plays no part: it reads files.
    queries, pipeline = start_stage("gold", spark, paths, settings, trigger=Trigger(available_now=True))
    (gold,) = queries.values()
    gold.awaitTermination()
    assert gold.exception() is None and pipeline is not None
    pipeline.gold_sink.close()

    trades = [t for rows in ingestions for t, _ in rows]
    assert sorted(r.event_id for r in paths.silver_table.read(spark).collect()) == sorted(t.event_id for t in trades)
    batches = sorted(paths.silver.glob("batch-*"))
    assert len(batches) == 2
    # The mechanism: a silver batch's trades are one file, so a files-per-trigger cap cannot split it.
    assert [len(list(b.glob("part-*"))) for b in batches] == [1, 1]
    progress = [p for p in gold.recentProgress if p.numInputRows]
    assert len(progress) == 2, "one gold trigger per silver file"
    assert sum(p.stateOperators[0].numRowsDroppedByWatermark for p in progress) == 0
    db = SqliteSession(paths.gold_db)
    try:
        assert_gold_matches(db, gold_reference(trades, int(WINDOW.seconds), ()))
    finally:
        db.close()
