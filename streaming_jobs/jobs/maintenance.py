"""Delta maintenance job: one run of streaming_jobs/maintenance.py's statements, nightly.

The stack schedules it (components/databricks_jobs.py, manifest.MAINTENANCE_JOB) on a job cluster under
the job policy, like the streaming jobs. It takes the run's clock reading once, builds every statement
from it (table properties, liquid clustering and OPTIMIZE, bronze hot -> cold, VACUUM) and runs them in
order; a failing statement fails the run, and the next run repeats the whole sequence (each statement is
idempotent: docs/capacity.md, "Delta maintenance").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streaming_jobs.config import ConfigError
from streaming_jobs.jobs.common import JobArgumentParser
from streaming_jobs.manifest import MAINTENANCE_JOB, MIN_VACUUM_HOURS

log = logging.getLogger("streaming_jobs.maintenance")


def build_parser() -> JobArgumentParser:
    p = JobArgumentParser(prog="delta_maintenance", description=MAINTENANCE_JOB.description)
    p.add_argument("--catalog", required=True)
    p.add_argument("--bronze-schema", required=True)
    p.add_argument("--silver-schema", required=True)
    p.add_argument("--gold-schema", required=True)
    p.add_argument("--hot-days", required=True, type=int, help="bronze rows older than this move to cold")
    p.add_argument("--cold-days", required=True, type=int, help="cold rows older than this are deleted")
    p.add_argument("--vacuum-hours", required=True, type=int, help="VACUUM retention")
    p.add_argument(
        "--stream-retention-hours",
        required=True,
        type=int,
        help="the trades stream's retention on the broker (0: kept forever); VACUUM must keep longer",
    )
    return p


@dataclass(frozen=True)
class MaintenanceConfig:
    catalog: str
    schemas: dict[str, str]
    hot_days: int
    cold_days: int
    vacuum_hours: int
    stream_retention_hours: int


def parse_args(argv: Sequence[str]) -> MaintenanceConfig:
    a = build_parser().parse_args(argv)
    for param, value in (("--hot-days", a.hot_days), ("--cold-days", a.cold_days), ("--vacuum-hours", a.vacuum_hours)):
        if value <= 0:
            raise ConfigError(f"{param}: must be positive, got {value}")
    if a.stream_retention_hours < 0:
        raise ConfigError(f"--stream-retention-hours: must be 0 or more, got {a.stream_retention_hours}")
    if a.cold_days <= a.hot_days:
        raise ConfigError(f"--cold-days: {a.cold_days} must exceed --hot-days {a.hot_days}")
    floor = max(MIN_VACUUM_HOURS, a.stream_retention_hours)
    if a.vacuum_hours <= floor:
        raise ConfigError(
            f"--vacuum-hours: {a.vacuum_hours} must exceed {floor} (Delta's {MIN_VACUUM_HOURS}-hour check and "
            f"--stream-retention-hours {a.stream_retention_hours}: a reader or checkpoint may lag that long)"
        )
    schemas = {"bronze": a.bronze_schema, "silver": a.silver_schema, "gold": a.gold_schema}
    cfg = MaintenanceConfig(a.catalog, schemas, a.hot_days, a.cold_days, a.vacuum_hours, a.stream_retention_hours)
    statements(cfg, datetime.now(UTC))  # table names are checked before a session starts
    return cfg


def statements(cfg: MaintenanceConfig, now: datetime, archive_from: datetime | None = None) -> list[str]:
    from streaming_jobs.maintenance import maintenance_sql

    return maintenance_sql(
        cfg.catalog,
        cfg.schemas,
        hot_days=cfg.hot_days,
        cold_days=cfg.cold_days,
        vacuum_hours=cfg.vacuum_hours,
        stream_retention_hours=cfg.stream_retention_hours,
        now=now,
        archive_from=archive_from,
    )


def oldest_to_archive(spark: Any, bronze: str, now: datetime, hot_days: int) -> datetime | None:
    """The oldest `ingest_time` among the bronze rows this run archives (None: none)."""
    from streaming_jobs.maintenance import archive_floor_sql, from_micros

    (row,) = spark.sql(archive_floor_sql(bronze, now, hot_days)).collect()  # one aggregate row
    oldest = row["oldest"]
    return None if oldest is None else from_micros(int(oldest))


def main(argv: Sequence[str]) -> None:
    cfg = parse_args(argv)
    from pyspark.sql import SparkSession

    from streaming_jobs.io.delta import BRONZE_TABLE, table_name
    from streaming_jobs.jobs.common import configure

    spark = configure(SparkSession.builder.getOrCreate())
    now = datetime.now(UTC)
    bronze = table_name(cfg.catalog, cfg.schemas["bronze"], BRONZE_TABLE)
    sql = statements(cfg, now, oldest_to_archive(spark, bronze, now, cfg.hot_days))
    for i, statement in enumerate(sql, 1):
        started = time.monotonic()
        spark.sql(statement)
        log.info("maintenance %d/%d in %.1f s: %s", i, len(sql), time.monotonic() - started, statement[:200])
