"""The pipeline-health page's and the SLO alerts' Databricks SQL, run on local Spark over tables the figures are
known for: records per stage, the jobs' published latency p50/p99, serving lag, backlog and query starts
(pipeline_metrics), data quality and quarantine by reason (the gold data-quality view over silver).

Local Spark has no Unity Catalog, so the schema-qualified names become temp views (`bronze`.`trades_raw` ->
`bronze_trades_raw`); everything else is the SQL the dashboard and the alert deploy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from components import serving_dashboards as sd
from streaming_jobs import ops_metrics as om
from streaming_jobs.io.delta import BRONZE_TABLE, QUARANTINE_TABLE, SILVER_TABLE


def _local(sql: str) -> str:
    for qualified in (sd.BRONZE, sd.SILVER, sd.QUARANTINE):
        sql = sql.replace(qualified, "`" + qualified.replace("`", "").replace(".", "_") + "`")
    return sql


def test_the_dashboard_names_the_tables_the_jobs_write() -> None:
    assert (
        f"`bronze`.`{BRONZE_TABLE}`",
        f"`silver`.`{SILVER_TABLE}`",
        f"`silver`.`{QUARANTINE_TABLE}`",
    ) == (sd.BRONZE, sd.SILVER, sd.QUARANTINE)


def _metrics_row(stage: str, run_id: str, batch_id: int, at: datetime, **figures: Any) -> tuple[Any, ...]:
    row = dict.fromkeys(om.METRICS_COLUMN_NAMES)
    row.update(stage=stage, query_name=stage, query_id=f"q-{stage}", run_id=run_id, batch_id=batch_id)
    row.update(batch_timestamp=at, input_rows=10, **figures)
    return om.as_tuple(row)


def test_pipeline_health_figures_on_known_tables(spark: Any) -> None:
    now = datetime.now().replace(microsecond=0)  # the session's clock (current_timestamp is local time)
    arrived = now - timedelta(minutes=5)
    old = now - timedelta(hours=3)  # outside every window: must count nowhere
    spark.createDataFrame([(arrived,)] * 10 + [(old,)] * 4, "ingest_time timestamp").createOrReplaceTempView(
        "bronze_trades_raw"
    )
    spark.createDataFrame([(arrived,)] * 8 + [(old,)] * 3, "ingest_time timestamp").createOrReplaceTempView(
        "silver_trades"
    )
    quarantined = [("MISSING_FIELD:price", arrived), ("BAD_SIDE", arrived), ("BAD_SIDE", old)]
    spark.createDataFrame(quarantined, "reason string, ingest_time timestamp").createOrReplaceTempView(
        "silver_trades_quarantine"
    )
    # The gold data-quality view over them, as the gold job creates it in the gold schema.
    spark.sql(om.quality_view_select("`silver_trades`", "`silver_trades_quarantine`")).createOrReplaceTempView(
        om.QUALITY_VIEW
    )
    gold = [(arrived,)] * 20 + [(old,)]
    spark.createDataFrame(gold, "updated_at timestamp").createOrReplaceTempView(sd.SLO_TABLE.name)
    # The jobs' metrics: gold batches with known latencies and serving lags, Kafka and Delta backlogs, and runs.
    p99s = [1.0, 2.0, 3.0, 4.0, 9.0]
    metrics = [
        _metrics_row(
            "gold",
            "g-1",
            i,
            arrived + timedelta(seconds=i),
            latency_p50_seconds=p99 / 2,
            latency_p99_seconds=p99,
            serving_lag_seconds=0.1 * (i + 1),
        )
        for i, p99 in enumerate(p99s)
    ]
    metrics.append(_metrics_row("gold", "g-1", 99, old, latency_p99_seconds=99.0, serving_lag_seconds=99.0))
    metrics += [
        _metrics_row("bronze", "b-1", 1, now - timedelta(hours=24, minutes=30), max_offsets_behind=5),
        _metrics_row("bronze", "b-1", 2, arrived, max_offsets_behind=500, avg_offsets_behind=400.0),
        _metrics_row("bronze", "b-2", 3, arrived + timedelta(seconds=10), max_offsets_behind=800),
        _metrics_row("silver", "s-1", 1, arrived, files_behind=12, bytes_behind=1 << 20),
    ]
    spark.createDataFrame(metrics, om.METRICS_SCHEMA_DDL).createOrReplaceTempView(om.METRICS_TABLE)

    visuals = {v.key: v for v in sd.pipeline_health_visuals(window_minutes=60)}

    def rows(sql: str) -> list[Any]:
        return spark.sql(_local(sql)).collect()

    per_stage: dict[str, int] = {}
    for r in rows(visuals["stage_throughput"].sql):
        per_stage[r["stage"]] = per_stage.get(r["stage"], 0) + r["records"]
    assert per_stage == {"bronze": 10, "silver": 8, "quarantine": 2, "gold rows": 20}

    # Latency and serving lag: the gold batches' published figures in the window, one point per batch.
    latency = sorted((r["percentile"], r["seconds"]) for r in rows(visuals["latency"].sql))
    assert latency == sorted([("p50", p / 2) for p in p99s] + [("p99", p) for p in p99s])
    lags = sorted(r["serving_lag_seconds"] for r in rows(visuals["serving_lag"].sql))
    assert lags == pytest.approx([0.1 * (i + 1) for i in range(len(p99s))])

    # Backlog: the worst per minute and stage, in the source's own unit.
    backlog = {(r["source"], r["backlog"]) for r in rows(visuals["backlog"].sql)}
    assert {s for s, _ in backlog} == {"bronze (Kafka offsets behind)", "silver (Delta files behind)"}
    assert max(b for s, b in backlog if s.startswith("bronze")) == 800
    assert {b for s, b in backlog if s.startswith("silver")} == {12}

    # Query starts: a run whose first batch lies before the day (b-1) is no start; b-2, g-1 and s-1 are.
    starts = {(r["stage"], r["starts"]) for r in rows(visuals["query_starts"].sql)}
    assert sorted(starts) == [("bronze", 1), ("gold", 1), ("silver", 1)]

    (quality,) = rows(visuals["data_quality"].sql)
    assert float(quality["quality_pct"]) == pytest.approx(80.0)
    assert {r["reason"]: r["records"] for r in rows(visuals["quarantine_by_reason"].sql)} == {
        "MISSING_FIELD:price": 1,
        "BAD_SIDE": 1,
    }

    # The quality alert's query: the window's figure, and no row at all when nothing arrived in it.
    ((alert_quality,),) = rows(sd.quality_sql(15, per_minute=False))
    assert float(alert_quality) == pytest.approx(80.0)
    assert rows(sd.quality_sql(1, per_minute=False)) == []
    # The latency alert's query: the worst published batch p99 in the look-back (the old batch is outside it).
    ((p99, batches),) = rows(sd.latency_query(lookback_minutes=15))
    assert (p99, batches) == (9.0, len(p99s))
    assert rows(sd.latency_query(lookback_minutes=1)) == []
