"""Exactly-once across stops and crashes: a stream stopped mid-way or failing right after its sink
committed, restarted from its checkpoint, ends with the same result and no duplicate or lost row."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.io.streams import Trigger
from streaming_jobs.local_pipeline import LocalPaths, PipelineSettings, start_stage
from streaming_jobs.serving.connections import SqliteSession
from streaming_jobs.serving.schema import GOLD_SCHEMA
from tests.streaming.conftest import Dataset
from tests.streaming.gold_checks import assert_gold_matches

pytestmark = pytest.mark.spark


def _run_some_batches(queries: dict[str, StreamingQuery], name: str, batches: int) -> None:
    """Let a continuously triggered stream make progress, then stop it wherever it is (maybe mid-batch).

    Waiting is not an assertion: whenever the stop lands, the restarted result must be the same.
    """
    q = queries[name]
    deadline = time.time() + 600
    while q.isActive and time.time() < deadline:
        if len([p for p in q.recentProgress if p.numInputRows > 0]) >= batches:
            break
        time.sleep(0.1)
    for other in queries.values():
        other.stop()


def _finish(spark: SparkSession, stage: str, paths: LocalPaths, settings: PipelineSettings) -> None:
    queries, pipeline = start_stage(stage, spark, paths, settings, trigger=Trigger(available_now=True))
    for q in queries.values():
        q.awaitTermination()
        assert q.exception() is None
    if pipeline is not None:
        pipeline.gold_sink.close()


@pytest.fixture(scope="module")
def settings(dataset: Dataset) -> PipelineSettings:
    return PipelineSettings(
        rules=dataset.rules,
        window=dataset.window,
        alert_rules=dataset.alert_rules,
        trigger=Trigger(),  # back to back, like production
        max_files_per_trigger=2,
        # Two files a batch: 6-7 micro-batches per stage, enough for a stop after two, a crash and a restart.
        max_bronze_files_per_trigger=2,
        max_silver_files_per_trigger=2,
    )


def _silver_stopped_then_crashed_between_tables_then_restarted(
    spark: SparkSession, dataset: Dataset, paths: LocalPaths, settings: PipelineSettings
) -> None:
    dataset.write_landing(paths.landing)
    _finish(spark, "bronze", paths, settings)
    # 1. Stopped mid-way.
    queries, _ = start_stage("silver", spark, paths, settings)
    _run_some_batches(queries, "silver_cleanse", 2)

    # 2. Crashes between its two appends: the batch is in trades, not yet in quarantine.
    queries, _ = start_stage(
        "silver", spark, paths, settings, trigger=Trigger(available_now=True), fail_after_commit=lambda _: True
    )
    (q,) = queries.values()
    with pytest.raises(Exception, match="injected failure after appending silver batch"):
        q.awaitTermination()
    crashed = {d.name for d in paths.silver.glob("batch-*")} - {d.name for d in paths.quarantine.glob("batch-*")}
    assert len(crashed) == 1, "the crashed batch should be in trades only"

    # 3. Restarted: the replayed batch is skipped in trades and appended to quarantine; the rest follows.
    _finish(spark, "silver", paths, settings)
    assert {d.name for d in paths.silver.glob("batch-*")} == {d.name for d in paths.quarantine.glob("batch-*")}

    silver = paths.silver_table.read(spark).collect()
    ids = [r.event_id for r in silver]
    assert len(ids) == len(set(ids)), "a duplicate row after the restart"
    assert sorted(ids) == sorted(t.event_id for t in dataset.trades), "a lost or extra row after the restart"
    quarantine = Counter((r.payload, r.reason) for r in paths.quarantine_table.read(spark).collect())
    assert quarantine == Counter((e.payload, e.expected_reason) for e in dataset.items if e.expected_reason)


def _gold_stopped_then_crashed_after_commit_then_restarted(
    spark: SparkSession, dataset: Dataset, paths: LocalPaths, settings: PipelineSettings
) -> None:
    # 1. Stopped mid-way.
    queries, pipeline = start_stage("gold", spark, paths, settings)
    _run_some_batches(queries, "gold_metrics", 2)
    assert pipeline is not None
    pipeline.gold_sink.close()

    # 2. Crashes right after its first batch committed to SQL, before Spark records the batch as done.
    queries, pipeline = start_stage(
        "gold", spark, paths, settings, trigger=Trigger(available_now=True), fail_after_commit=lambda _: True
    )
    (q,) = queries.values()
    with pytest.raises(Exception, match="injected failure after committing gold batch"):
        q.awaitTermination()
    assert pipeline is not None
    pipeline.gold_sink.close()

    # 3. Restarted: Spark re-runs the crashed batch; the ledger recognises it; the rest follows.
    queries, pipeline = start_stage("gold", spark, paths, settings, trigger=Trigger(available_now=True))
    (q,) = queries.values()
    q.awaitTermination()
    assert q.exception() is None and pipeline is not None
    assert pipeline.gold_sink.skipped == 1, "the replayed batch should have been found in the ledger"
    pipeline.gold_sink.close()

    db = SqliteSession(paths.gold_db)
    try:
        ledger = db.query(f"SELECT query_id, batch_id FROM {GOLD_SCHEMA}.serving_batches ORDER BY batch_id")
        assert len({qid for qid, _ in ledger}) == 1, "one streaming query id across all restarts"
        assert [b for _, b in ledger] == list(range(len(ledger))), "every batch applied exactly once"
        assert_gold_matches(db, dataset.reference)
    finally:
        db.close()


def test_silver_then_gold_stopped_crashed_and_restarted(  # type: ignore[no-untyped-def]
    spark, dataset: Dataset, tmp_path: Path, settings: PipelineSettings
) -> None:
    """One self-contained run: gold reads what silver's restarts wrote, so the two are one scenario."""
    paths = LocalPaths(tmp_path)
    paths.create()
    _silver_stopped_then_crashed_between_tables_then_restarted(spark, dataset, paths, settings)
    _gold_stopped_then_crashed_after_commit_then_restarted(spark, dataset, paths, settings)
    # The restarts ran on local_session's checkpoint manager and checksum-free file system
    # (LOCAL_FILESYSTEM_CONF): their logs are complete and carry no .crc side files.
    assert list(paths.checkpoints.glob("*/offsets/*")) and list(paths.checkpoints.glob("*/commits/*"))
    assert not list(paths.root.rglob("*.crc")), "a checksum file: the local file system settings are not in effect"
