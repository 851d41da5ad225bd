"""Delta maintenance SQL (Databricks-only statements), checked as text; its predicates run on local Spark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import SparkSession

from streaming_jobs.config import ConfigError
from streaming_jobs.jobs import maintenance as job
from streaming_jobs.maintenance import ARCHIVE_KEY, cutoff, maintenance_sql, timestamp_literal
from streaming_jobs.manifest import MAINTENANCE_JOB, MIN_VACUUM_HOURS, vacuum_hours_for
from streaming_jobs.ops_metrics import METRICS_RETENTION_DAYS, create_metrics_table_sql

SCHEMAS = {"bronze": "bronze", "silver": "silver", "gold": "gold"}
NOW = datetime(2026, 12, 6, 2, 30, 0, 123456, tzinfo=UTC)
HOT_CUTOFF = "TIMESTAMP '2026-09-07 02:30:00.123456+00:00'"  # 90 days before NOW


def _sql(**kw: int) -> list[str]:
    args = {"hot_days": 90, "cold_days": 730, "vacuum_hours": 240, "stream_retention_hours": 168, **kw}
    return maintenance_sql("rta", SCHEMAS, now=NOW, **args)


def _sql_from(archive_from: datetime) -> list[str]:
    return maintenance_sql(
        "rta",
        SCHEMAS,
        hot_days=90,
        cold_days=730,
        vacuum_hours=240,
        stream_retention_hours=168,
        now=NOW,
        archive_from=archive_from,
    )


def test_bronze_moves_to_cold_before_it_is_deleted_and_cold_expires() -> None:
    sql = _sql()
    merge = next(i for i, s in enumerate(sql) if s.startswith("MERGE INTO `rta`.`bronze`.`trades_raw_cold`"))
    delete = sql.index(f"DELETE FROM `rta`.`bronze`.`trades_raw` WHERE ingest_time < {HOT_CUTOFF}")
    assert merge < delete and "WHEN NOT MATCHED THEN INSERT *" in sql[merge]
    # The MERGE copies exactly the rows the DELETE then removes: one literal cutoff, not two clock readings.
    assert f"FROM `rta`.`bronze`.`trades_raw` WHERE ingest_time < {HOT_CUTOFF})" in sql[merge]
    assert not any("current_timestamp" in s for s in sql)
    assert f"DELETE FROM `rta`.`bronze`.`trades_raw_cold` WHERE ingest_time < {cutoff(NOW, 730)}" in sql


def test_the_published_metrics_are_kept_a_month_and_exist_before_the_first_delete() -> None:
    sql = _sql()
    metrics = "`rta`.`gold`.`pipeline_metrics`"
    create = sql.index(create_metrics_table_sql("`rta`.`gold`"))
    delete = sql.index(f"DELETE FROM {metrics} WHERE batch_timestamp < {cutoff(NOW, METRICS_RETENTION_DAYS)}")
    assert create < delete < sql.index(f"VACUUM {metrics} RETAIN 240 HOURS")
    assert f"OPTIMIZE {metrics}" in sql


def test_the_archive_key_tells_apart_landing_rows_which_have_no_kafka_coordinates() -> None:
    merge = next(s for s in _sql() if s.startswith("MERGE"))
    on = merge.split(" ON ", 1)[1].split(" WHEN ", 1)[0]
    assert on.endswith(" AND ".join(f"c.`{c}` <=> b.`{c}`" for c in ARCHIVE_KEY))
    # Landing rows carry a null partition and offset (transforms/bronze.py): their file and micro-batch tell them
    # apart, or the first archived landing row would match (and so drop) every later one.
    assert {"topic", "partition", "offset", "source_file", "ingest_time"} == set(ARCHIVE_KEY)


def test_the_merge_reads_cold_only_from_the_oldest_row_it_archives() -> None:
    oldest = NOW - timedelta(days=93, microseconds=7)
    merge = next(s for s in _sql_from(oldest) if s.startswith("MERGE"))
    assert f"ON c.ingest_time >= {timestamp_literal(oldest)} AND " in merge
    # Nothing to archive: the bound is the hot cutoff (the source is empty, no cold row can match).
    assert f"ON c.ingest_time >= {HOT_CUTOFF} AND " in next(s for s in _sql() if s.startswith("MERGE"))
    # The cold table is clustered by ingest_time, so OPTIMIZE lays it out for that bound and for expiry.
    assert "ALTER TABLE `rta`.`bronze`.`trades_raw_cold` CLUSTER BY (ingest_time)" in _sql()


def test_the_oldest_row_to_archive_is_read_to_the_microsecond(spark: SparkSession) -> None:
    at = NOW - timedelta(days=90)
    rows = [(at - timedelta(days=3, microseconds=7),), (at - timedelta(microseconds=1),), (at,), (NOW,)]
    spark.createDataFrame(rows, "ingest_time timestamp").createOrReplaceTempView("maintenance_bronze")
    zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
    try:
        spark.conf.set("spark.sql.session.timeZone", "Asia/Kolkata")
        oldest = job.oldest_to_archive(spark, "maintenance_bronze", NOW, 90)
        assert oldest == rows[0][0]
        # The bound keeps that row (>=), to the microsecond, whatever the session's time zone.
        kept = spark.sql(f"SELECT * FROM maintenance_bronze WHERE ingest_time >= {timestamp_literal(oldest)}")
        assert kept.count() == len(rows)
        assert job.oldest_to_archive(spark, "maintenance_bronze", NOW, 1000) is None
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
        spark.catalog.dropTempView("maintenance_bronze")


def test_the_cutoff_literal_selects_the_same_rows_whatever_the_session_time_zone(spark: SparkSession) -> None:
    hot = cutoff(NOW, 90)
    at = NOW - timedelta(days=90)
    rows = [(at - timedelta(seconds=1),), (at,), (at + timedelta(seconds=1),)]
    frame = spark.createDataFrame(rows, "ingest_time timestamp")
    zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
    try:
        for tz in ("UTC", "America/New_York"):
            spark.conf.set("spark.sql.session.timeZone", tz)
            older = frame.where(f"ingest_time < {hot}").collect()
            assert [r.ingest_time.astimezone(UTC) for r in older] == [rows[0][0]], tz
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)


def test_gold_is_clustered_on_its_serving_keys_and_everything_vacuumed_past_the_lag() -> None:
    sql = _sql()
    assert "ALTER TABLE `rta`.`gold`.`symbol_window_metrics` CLUSTER BY (window_start, symbol)" in sql
    assert "OPTIMIZE `rta`.`gold`.`symbol_window_metrics`" in sql
    vacuums = [s for s in sql if s.startswith("VACUUM")]
    assert vacuums and all(s.endswith("RETAIN 240 HOURS") for s in vacuums)
    props = next(s for s in sql if s.startswith("ALTER TABLE `rta`.`silver`.`trades` SET TBLPROPERTIES"))
    assert "'delta.enableDeletionVectors' = 'true'" in props and "interval 240 hours" in props


@pytest.mark.parametrize(
    ("kw", "expected"), [({"vacuum_hours": 168}, "must exceed 168"), ({"cold_days": 30}, "cold_days")]
)
def test_unsafe_settings_are_refused(kw: dict[str, int], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        _sql(**kw)


def test_vacuum_retention_the_stack_passes_clears_the_check() -> None:
    for retention in (None, 24, 168, 720):
        hours = vacuum_hours_for(retention)
        assert hours > max(MIN_VACUUM_HOURS, retention or 0)
        _sql(vacuum_hours=hours, stream_retention_hours=retention or 0)


def _argv(**overrides: str) -> list[str]:
    values = {
        "--catalog": "rta",
        "--bronze-schema": "bronze",
        "--silver-schema": "silver",
        "--gold-schema": "gold",
        "--hot-days": "90",
        "--cold-days": "730",
        "--vacuum-hours": "192",
        "--stream-retention-hours": "168",
        **overrides,
    }
    return [x for kv in values.items() for x in kv]


def test_the_job_reads_the_parameters_the_manifest_names() -> None:
    cfg = job.parse_args(_argv())
    assert set(_argv()[::2]) == set(MAINTENANCE_JOB.required_params)
    assert cfg.schemas == SCHEMAS and (cfg.hot_days, cfg.cold_days, cfg.vacuum_hours) == (90, 730, 192)
    assert job.statements(cfg, NOW) == maintenance_sql(
        "rta", SCHEMAS, hot_days=90, cold_days=730, vacuum_hours=192, stream_retention_hours=168, now=NOW
    )


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"--vacuum-hours": "168"}, "--vacuum-hours: 168 must exceed 168"),
        ({"--stream-retention-hours": "400"}, "--vacuum-hours: 192 must exceed 400"),
        ({"--cold-days": "60"}, "--cold-days: 60 must exceed --hot-days 90"),
        ({"--hot-days": "0"}, "--hot-days: must be positive"),
        ({"--cold-days": "ninety"}, "--cold-days"),
        ({"--catalog": "rta; DROP"}, "--catalog"),
    ],
)
def test_bad_job_parameters_are_config_errors_before_spark_starts(override: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        job.parse_args(_argv(**override))


class _Reader:
    def __init__(self) -> None:
        self.options: dict[str, object] = {}
        self.table_name: str | None = None

    def option(self, key: str, value: object) -> _Reader:
        self.options[key] = value
        return self

    def table(self, name: str) -> _Reader:
        self.table_name = name
        return self


def test_the_streams_reading_delta_skip_the_maintenance_deletes() -> None:
    """Silver reads bronze, which the maintenance DELETE changes: the stream must skip that commit, not fail."""
    from streaming_jobs.io.delta import DeltaTableSource

    reader = _Reader()

    class _Spark:
        readStream = reader  # noqa: N815 (PySpark's name)

    DeltaTableSource("`rta`.`bronze`.`trades_raw`", max_files_per_trigger=10).read(_Spark())  # type: ignore[arg-type]
    assert reader.options == {"skipChangeCommits": "true", "maxFilesPerTrigger": 10}
    assert reader.table_name == "`rta`.`bronze`.`trades_raw`"
