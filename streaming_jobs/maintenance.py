"""Delta maintenance as SQL: table properties, liquid clustering + OPTIMIZE, bronze hot -> cold, VACUUM.

Generated as text (Databricks SQL; none of it runs on local Spark without Delta), so tests check the
statements; `streaming_jobs/jobs/maintenance.py` runs them as the scheduled `delta_maintenance` job
(manifest.MAINTENANCE_JOB; docs/capacity.md, "Delta maintenance").

* Cold, for a Delta table here: bronze rows older than `hot_days` (by `ingest_time`) live in their own
  Delta table `trades_raw_cold` beside bronze, which no stream reads; they are copied there with an
  idempotent MERGE and then deleted from bronze, so an interrupted run repeats without duplicates.
  Rows older than `cold_days` are deleted from the cold table. Blob lifecycle never touches these files
  (it would break the Delta log).
* One run takes one clock reading (`now`): the MERGE and the DELETE after it select bronze rows with the
  same literal cutoff. With `current_timestamp()` in each statement, rows crossing the boundary between
  the two would be deleted without having been copied.
* The MERGE key is the row's lineage: (topic, partition, offset) for Kafka rows, which leave
  `source_file` null, and (source_file, ingest_time) for rows of the landing source, which leave
  partition and offset null (transforms/bronze.py). On the Kafka coordinates alone every landing row
  matches every other (null-safe equality on nulls), so after the first run none would be copied, and
  the DELETE would drop them. Rows of one file are ingested in one micro-batch (one `ingest_time`), so
  they cross the cutoff together: a later run never meets a new row with the key of an archived one.
* The MERGE reads the cold table only from the oldest `ingest_time` it archives (the job queries it first:
  `archive_floor_sql`), and the cold table is liquid-clustered by `ingest_time`: a nightly run skips the
  files of two years of cold rows instead of joining against all of them.
* The silver stream reads bronze as a Delta source, which fails on a commit that removes data; it reads
  with `skipChangeCommits` (io/delta.py), so the hot -> cold DELETE (which adds no rows) is skipped.
* VACUUM keeps `vacuum_hours` of removed files; it must exceed the longest time a reader or a stream's
  checkpoint may lag, at least the trades stream's retention on the broker (a stream further behind
  than that has lost events anyway); Delta refuses less than its 168-hour default check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from streaming_jobs.io.delta import BRONZE_TABLE, QUARANTINE_TABLE, SILVER_TABLE, table_name
from streaming_jobs.manifest import MIN_VACUUM_HOURS
from streaming_jobs.ops_metrics import METRICS_RETENTION_DAYS, METRICS_TABLE, create_metrics_table_sql
from streaming_jobs.serving.schema import GOLD_TABLES

COLD_TABLE = f"{BRONZE_TABLE}_cold"
# Silver is read by time range and symbol; gold by its serving key.
SILVER_CLUSTER_BY = ("symbol", "event_time")
# What identifies one bronze row (see the module docstring): Kafka coordinates, or file and micro-batch.
ARCHIVE_KEY = ("topic", "partition", "offset", "source_file", "ingest_time")


def table_properties(vacuum_hours: int) -> dict[str, str]:
    return {
        "delta.enableDeletionVectors": "true",
        "delta.autoOptimize.optimizeWrite": "true",
        "delta.autoOptimize.autoCompact": "true",
        "delta.deletedFileRetentionDuration": f"interval {vacuum_hours} hours",
        # Serving reads gold per micro-batch (MERGE into Azure SQL), not through the change data feed.
        "delta.enableChangeDataFeed": "false",
    }


def maintenance_sql(
    catalog: str,
    schemas: dict[str, str],
    *,
    hot_days: int,
    cold_days: int,
    vacuum_hours: int,
    stream_retention_hours: int,
    now: datetime,
    archive_from: datetime | None = None,
) -> list[str]:
    """Every statement of one maintenance run, in order; `now` (aware) is the run's one clock reading.

    `archive_from` is the oldest `ingest_time` among the bronze rows this run archives (`archive_floor_sql`;
    None: there are none). A cold row can match only a row with its own `ingest_time`, so the MERGE reads the
    cold table from there on: its files are clustered by `ingest_time`, and the rest of two years of cold
    data is skipped instead of scanned every night.
    """
    if now.tzinfo is None or (archive_from is not None and archive_from.tzinfo is None):
        raise ValueError("now and archive_from must carry a time zone (the cutoffs are UTC literals)")
    if cold_days <= hot_days:
        raise ValueError(f"cold_days {cold_days} must exceed hot_days {hot_days}")
    floor = max(MIN_VACUUM_HOURS, stream_retention_hours)
    if vacuum_hours <= floor:
        raise ValueError(
            f"vacuum_hours {vacuum_hours} must exceed {floor} (Delta's 168-hour check and the stream's "
            f"{stream_retention_hours}-hour retention: a reader or checkpoint may lag that long)"
        )
    bronze = table_name(catalog, schemas["bronze"], BRONZE_TABLE)
    cold = table_name(catalog, schemas["bronze"], COLD_TABLE)
    silver = table_name(catalog, schemas["silver"], SILVER_TABLE)
    quarantine = table_name(catalog, schemas["silver"], QUARANTINE_TABLE)
    gold = {t.name: (table_name(catalog, schemas["gold"], t.name), t.key) for t in GOLD_TABLES.values()}
    # The jobs' published metrics (ops_metrics.py): created here too, so a night before the jobs ever ran
    # finds it; kept METRICS_RETENTION_DAYS by batch start (nothing streams from it: a plain DELETE).
    metrics = table_name(catalog, schemas["gold"], METRICS_TABLE)
    props = ", ".join(f"'{k}' = '{v}'" for k, v in table_properties(vacuum_hours).items())
    everything = [bronze, cold, silver, quarantine, *(name for name, _ in gold.values()), metrics]
    sql: list[str] = [
        f"CREATE TABLE IF NOT EXISTS {cold} LIKE {bronze}",
        create_metrics_table_sql(metrics.rsplit(".", 1)[0]),
        *(f"ALTER TABLE {t} SET TBLPROPERTIES ({props})" for t in everything),
        f"ALTER TABLE {silver} CLUSTER BY ({', '.join(SILVER_CLUSTER_BY)})",
        *(f"ALTER TABLE {name} CLUSTER BY ({', '.join(key)})" for name, key in gold.values()),
        f"ALTER TABLE {cold} CLUSTER BY (ingest_time)",
        _to_cold(bronze, cold, _older(now, hot_days), archive_from or now - timedelta(days=hot_days)),
        f"DELETE FROM {bronze} WHERE {_older(now, hot_days)}",
        f"DELETE FROM {cold} WHERE {_older(now, cold_days)}",
        f"DELETE FROM {metrics} WHERE batch_timestamp < {cutoff(now, METRICS_RETENTION_DAYS)}",
        *(f"OPTIMIZE {t}" for t in [silver, *(name for name, _ in gold.values()), bronze, cold, metrics]),
        *(f"VACUUM {t} RETAIN {vacuum_hours} HOURS" for t in everything),
    ]
    return sql


def timestamp_literal(at: datetime) -> str:
    """A Spark SQL timestamp literal with its offset, to the microsecond, so the session time zone cannot move it."""
    return f"TIMESTAMP '{at.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f')}+00:00'"


def cutoff(now: datetime, days: int) -> str:
    """`now - days` as a timestamp literal."""
    return timestamp_literal(now - timedelta(days=days))


def archive_floor_sql(bronze: str, now: datetime, hot_days: int) -> str:
    """The query for `archive_from`: the oldest bronze row past the hot cutoff, in microseconds since the epoch
    (an integer, so no time zone touches it on its way to Python)."""
    return f"SELECT unix_micros(min(ingest_time)) AS oldest FROM {bronze} WHERE {_older(now, hot_days)}"


def from_micros(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _older(now: datetime, days: int) -> str:
    return f"ingest_time < {cutoff(now, days)}"


def _to_cold(bronze: str, cold: str, older: str, archive_from: datetime) -> str:
    on: Sequence[str] = ARCHIVE_KEY
    match = " AND ".join(f"c.`{c}` <=> b.`{c}`" for c in on)
    return (
        f"MERGE INTO {cold} AS c USING (SELECT * FROM {bronze} WHERE {older}) AS b "
        f"ON c.ingest_time >= {timestamp_literal(archive_from)} AND {match} WHEN NOT MATCHED THEN INSERT *"
    )
