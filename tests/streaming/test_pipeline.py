"""The whole pipeline as streams on local Spark, checked against the generator's ground truth."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streaming_jobs import reasons as rc
from streaming_jobs.generator.events import KIND_DUPLICATE, KIND_LATE, KIND_LATE_OK
from streaming_jobs.io.streams import Trigger
from streaming_jobs.jobs.common import progress_documents
from streaming_jobs.local_pipeline import LocalPaths, PipelineSettings, local_publisher, start_stage
from streaming_jobs.serving.connections import SqliteSession
from tests.streaming.conftest import Dataset
from tests.streaming.gold_checks import assert_gold_matches

pytestmark = pytest.mark.spark


@dataclass
class Run:
    paths: LocalPaths
    progress: dict[str, list[Any]]
    plans: dict[str, str]
    bronze: list[Any]
    silver: list[Any]
    quarantine: list[Any]
    # RDD ids the JVM holds in its block store before and after the stages ran.
    persistent_rdds: tuple[set[int], set[int]]
    # The pipeline_metrics rows the stages published (ops_metrics), as the jobs publish them on Databricks.
    metrics: list[Any]


@pytest.fixture(scope="module")
def run(spark, dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:  # type: ignore[no-untyped-def]
    """landing -> bronze -> silver -> gold, each stage a stream over several micro-batches."""
    paths = LocalPaths(Path(tmp_path_factory.mktemp("pipeline")))
    paths.create()
    dataset.write_landing(paths.landing)
    settings = PipelineSettings(
        rules=dataset.rules,
        window=dataset.window,
        alert_rules=dataset.alert_rules,
        trigger=Trigger(available_now=True),
        max_files_per_trigger=4,
        max_bronze_files_per_trigger=2,
        max_silver_files_per_trigger=1,
    )
    progress: dict[str, list[Any]] = {}
    plans: dict[str, str] = {}
    publisher = local_publisher(spark, paths)
    persistent_before = {int(i) for i in spark.sparkContext._jsc.getPersistentRDDs().keySet()}
    for stage in ("bronze", "silver", "gold"):
        queries, pipeline = start_stage(stage, spark, paths, settings)
        if pipeline is not None:
            publisher.commits.update({name: pipeline.writer.committed_at for name in queries})
        for q in queries.values():
            q.awaitTermination()
            assert q.exception() is None
            progress[q.name] = q.recentProgress
            plans[q.name] = q._jsq.streamingQuery().lastExecution().executedPlan().toString()
        publisher.publish(progress_documents(list(queries.values())))
        if pipeline is not None:
            pipeline.gold_sink.close()
    persistent_after = {int(i) for i in spark.sparkContext._jsc.getPersistentRDDs().keySet()}
    yield Run(
        paths,
        progress,
        plans,
        spark.read.parquet(str(paths.bronze)).collect(),
        paths.silver_table.read(spark).collect(),
        paths.quarantine_table.read(spark).collect(),
        (persistent_before, persistent_after),
        spark.read.parquet(str(paths.metrics)).collect(),
    )


def test_streams_ran_in_several_micro_batches(run: Run) -> None:
    for name in ("bronze_trades", "silver_cleanse", "gold_metrics"):
        assert len([p for p in run.progress[name] if p.numInputRows > 0]) >= 3, name


def test_silver_parses_each_record_once(run: Run) -> None:
    """Silver is one query and its plan holds one typed JSON parse, ahead of de-duplication (rejected
    records get their diagnostic parse in the quarantine append, on those records only; the exact strict
    checks parse again only inside the CASE of transforms.parse.strictly_readable, off the fast path)."""
    plan = run.plans["silver_cleanse"]
    assert plan.count("from_json(StructField(event_id,StringType") == 1, plan
    assert "StreamingDeduplicateWithinWatermark" in plan


def test_micro_batches_leave_nothing_in_memory(run: Run) -> None:
    """Silver and gold materialise each micro-batch they read twice; every one is released after its
    batch, so a long-running stream does not accumulate a batch's rows per trigger."""
    before, after = run.persistent_rdds
    assert after == before


def test_bronze_keeps_every_payload_with_lineage(run: Run, dataset: Dataset) -> None:
    assert Counter(r.payload for r in run.bronze) == Counter(e.payload for e in dataset.items)
    assert all(r.ingest_time is not None and r.source_file and r.topic == "landing" for r in run.bronze)


def test_every_malformed_kind_lands_in_quarantine_with_its_reason(run: Run, dataset: Dataset) -> None:
    expected = Counter((e.payload, e.expected_reason) for e in dataset.items if e.expected_reason)
    got = Counter((r.payload, r.reason) for r in run.quarantine)
    assert got == expected
    kinds = {e.kind for e in dataset.items if e.expected_reason}
    assert len(kinds) == 23  # every malformed kind the generator has, plus late events
    assert all(r.reasons and r.reasons[0] == r.reason for r in run.quarantine)


def test_nothing_is_dropped_silently(run: Run, dataset: Dataset) -> None:
    duplicates = sum(1 for e in dataset.items if e.kind == KIND_DUPLICATE)
    assert len(run.bronze) == len(run.silver) + len(run.quarantine) + duplicates


def test_duplicates_never_reach_silver(run: Run, dataset: Dataset) -> None:
    ids = [r.event_id for r in run.silver]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(t.event_id for t in dataset.trades)
    resent = {e.trade.event_id for e in dataset.items if e.kind == KIND_DUPLICATE and e.trade}
    assert resent and resent <= set(ids)


def test_silver_rows_are_the_typed_trades(run: Run, dataset: Dataset) -> None:
    by_id = {t.event_id: t for t in dataset.trades}
    for r in run.silver:
        t = by_id[r.event_id]
        assert (r.symbol, r.side, r.price, r.quantity, r.producer_seq) == (
            t.symbol,
            t.side,
            t.price,
            t.quantity,
            t.producer_seq,
        )
        assert r.event_time.replace(tzinfo=None) == t.event_time.replace(tzinfo=None)


def test_late_events_follow_the_watermark(run: Run, dataset: Dataset) -> None:
    """Within the watermark: counted. Beyond it: LATE_EVENT in quarantine, never in silver or gold."""
    silver_ids = {r.event_id for r in run.silver}
    within = [e for e in dataset.items if e.kind == KIND_LATE_OK and e.trade]
    assert within and all(e.trade.event_id in silver_ids for e in within if e.trade)
    beyond = [e.payload for e in dataset.items if e.kind == KIND_LATE]
    late_rows = [r for r in run.quarantine if r.reason == rc.LATE_EVENT]
    assert sorted(r.payload for r in late_rows) == sorted(beyond) and beyond
    # Spark's own watermark never had to drop an accepted row (its delay covers lateness + skew).
    for name in ("silver_cleanse", "gold_metrics"):
        dropped = sum(op.numRowsDroppedByWatermark for p in run.progress[name] for op in p.stateOperators)
        assert dropped == 0, name


def test_gold_equals_the_plain_python_reference(run: Run, dataset: Dataset) -> None:
    db = SqliteSession(run.paths.gold_db)
    try:
        assert_gold_matches(db, dataset.reference)
    finally:
        db.close()


def test_reference_exercises_the_interesting_cases(dataset: Dataset) -> None:
    """Guards the test data itself: alerts of every rule fire and late events reopen older windows."""
    ref = dataset.reference
    assert {rule for rule, _, _ in ref.alerts} == {r.name for r in dataset.alert_rules}
    assert len(ref.totals) >= 7


def test_the_slo_figures_of_the_local_run_match_the_generators_ground_truth(run: Run, dataset: Dataset, spark) -> None:  # type: ignore[no-untyped-def]
    """The data-quality figure and the quarantine-by-reason counts the dashboard and the quality alert read from
    the gold data-quality view (streaming_jobs/ops_metrics.py, over this run's silver and quarantine): what the
    generator says they must be."""
    from components import serving_dashboards as sd
    from streaming_jobs.ops_metrics import QUALITY_VIEW, quality_view_select

    run.paths.silver_table.read(spark).createOrReplaceTempView("silver_trades")
    run.paths.quarantine_table.read(spark).createOrReplaceTempView("silver_trades_quarantine")
    spark.sql(quality_view_select("`silver_trades`", "`silver_trades_quarantine`")).createOrReplaceTempView(
        QUALITY_VIEW
    )

    accepted = len(dataset.trades)
    quarantined = sum(1 for e in dataset.items if e.expected_reason)
    ((quality,),) = spark.sql(sd.quality_sql(60, per_minute=False)).collect()
    assert float(quality) == pytest.approx(100.0 * accepted / (accepted + quarantined))
    visuals = {v.key: v for v in sd.pipeline_health_visuals(window_minutes=60)}
    by_reason = {r["reason"]: r["records"] for r in spark.sql(visuals["quarantine_by_reason"].sql).collect()}
    assert by_reason == dict(Counter(e.expected_reason for e in dataset.items if e.expected_reason))
    per_minute = spark.sql(visuals["data_quality"].sql).collect()
    assert per_minute and all(0 < r["quality_pct"] <= 100 for r in per_minute)


def _gold_batch_files(checkpoints: Path, progress: list[Any]) -> dict[int, set[str]]:
    """Which silver files each gold batch read, from Spark's own file-source log in gold's checkpoint
    (sources/0/<n>, compacted every 10 batches into <n>.compact; every entry names its batch)."""
    by_log_batch: dict[int, set[str]] = {}
    for log in (checkpoints / "gold_metrics" / "sources" / "0").iterdir():
        if log.name.startswith("."):
            continue
        for line in log.read_text().splitlines()[1:]:
            entry = json.loads(line)
            by_log_batch.setdefault(int(entry["batchId"]), set()).add(entry["path"])
    files: dict[int, set[str]] = {}
    for p in progress:
        (source,) = json.loads(p.json)["sources"]
        start = (source["startOffset"] or {"logOffset": -1})["logOffset"]
        end = source["endOffset"]["logOffset"]
        files[int(p.batchId)] = set().union(*(by_log_batch.get(n, set()) for n in range(start + 1, end + 1)))
    return files


def test_the_published_metrics_match_the_generators_ground_truth(run: Run, dataset: Dataset, spark) -> None:  # type: ignore[no-untyped-def]
    """Every batch of every stage published once, with the rows it read; gold's latency p50/p99 at its serving
    commit equal the latencies of the generator's event times of the trades that batch read (the silver files
    Spark's checkpoint says it read) at that commit; the latency alert's figure is the worst batch p99."""
    from components import serving_dashboards as sd
    from streaming_jobs.ops_metrics import METRICS_TABLE

    ran = {name: [p for p in progress if "addBatch" in p.durationMs] for name, progress in run.progress.items()}
    by_stage: dict[str, list[Any]] = {}
    for r in run.metrics:
        by_stage.setdefault(r["stage"], []).append(r)
    assert {s: len(rows) for s, rows in by_stage.items()} == {
        "bronze": len(ran["bronze_trades"]),
        "silver": len(ran["silver_cleanse"]),
        "gold": len(ran["gold_metrics"]),
    }
    inputs = {s: sum(r["input_rows"] for r in rows) for s, rows in by_stage.items()}
    assert inputs == {"bronze": len(dataset.items), "silver": len(dataset.items), "gold": len(dataset.trades)}
    assert all(len({r["run_id"] for r in rows}) == 1 for rows in by_stage.values()), "one run per stage"

    event_ms = {t.event_id: int(t.event_time.timestamp() * 1000) for t in dataset.trades}
    files = _gold_batch_files(run.paths.checkpoints, ran["gold_metrics"])
    worst = 0.0
    for r in by_stage["gold"]:
        commit = r["serving_commit_time"].timestamp()
        assert 0 <= r["serving_lag_seconds"] <= r["batch_duration_ms"] / 1000.0
        ids = [row.event_id for row in spark.read.parquet(*files[r["batch_id"]]).collect()] if r["input_rows"] else []
        assert len(ids) == r["input_rows"], r["batch_id"]
        if not ids:
            assert r["latency_p99_seconds"] is None
            continue
        times = sorted(event_ms[i] for i in ids)

        def at_rank(q: float, times: list[int] = times) -> float:
            return times[max(1, math.ceil(q * len(times))) - 1] / 1000.0

        assert r["latency_p50_seconds"] == pytest.approx(commit - at_rank(0.5), abs=0.002)
        assert r["latency_p99_seconds"] == pytest.approx(commit - at_rank(0.01), abs=0.002)
        worst = max(worst, commit - at_rank(0.01))

    spark.read.parquet(str(run.paths.metrics)).createOrReplaceTempView(METRICS_TABLE)
    ((p99, batches),) = spark.sql(sd.latency_query(lookback_minutes=60)).collect()
    assert p99 == pytest.approx(worst, abs=0.002)
    assert batches == sum(1 for r in by_stage["gold"] if r["input_rows"])
