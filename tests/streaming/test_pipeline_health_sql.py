"""The pipeline-health page's and the quality alert's Databricks SQL, run on local Spark over tables the
figures are known for: records per stage, latency p50/p99, data quality, quarantine by reason.

Local Spark has no Unity Catalog, so the schema-qualified names become temp views (`bronze`.`trades_raw` ->
`bronze_trades_raw`); everything else is the SQL the dashboard and the alert deploy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from components import serving_dashboards as sd
from streaming_jobs.io.delta import BRONZE_TABLE, QUARANTINE_TABLE, SILVER_TABLE
from streaming_jobs.metrics import percentile


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
    latencies = [0.5 * (i + 1) for i in range(20)]
    gold = [(arrived, arrived - timedelta(seconds=lat)) for lat in latencies] + [(old, old - timedelta(seconds=99))]
    spark.createDataFrame(gold, "updated_at timestamp, last_event_time timestamp").createOrReplaceTempView(
        sd.SLO_TABLE.name
    )

    visuals = {v.key: v for v in sd.pipeline_health_visuals(window_minutes=60)}

    def rows(sql: str) -> list[Any]:
        return spark.sql(_local(sql)).collect()

    per_stage: dict[str, int] = {}
    for r in rows(visuals["stage_throughput"].sql):
        per_stage[r["stage"]] = per_stage.get(r["stage"], 0) + r["records"]
    assert per_stage == {"bronze": 10, "silver": 8, "quarantine": 2, "gold rows": 20}

    by_percentile = {r["percentile"]: r["seconds"] for r in rows(visuals["latency"].sql)}
    assert by_percentile["p50"] == pytest.approx(percentile(latencies, 50))
    assert by_percentile["p99"] == pytest.approx(percentile(latencies, 99))

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
