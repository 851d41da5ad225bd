"""Delta maintenance as SQL: table properties, liquid clustering + OPTIMIZE, bronze hot -> cold, VACUUM.

Generated as text (Databricks SQL; none of it runs on local Spark without Delta), so tests check the
statements. Not yet deployed as a job (docs/capacity.md, "Delta maintenance").

* Cold, for a Delta table here: bronze rows older than `hot_days` (by `ingest_time`) live in their own
  Delta table `trades_raw_cold` beside bronze, which no stream reads; they are copied there with an
  idempotent MERGE on the Kafka coordinates (topic, partition, offset) and then deleted from bronze, so
  an interrupted run repeats without duplicates. Rows older than `cold_days` are deleted from the cold
  table. Blob lifecycle never touches these files (it would break the Delta log).
* VACUUM keeps `vacuum_hours` of removed files; it must exceed the longest time a reader or a stream's
  checkpoint may lag, at least the trades stream's retention on the broker (a stream further behind
  than that has lost events anyway); Delta refuses less than its 168-hour default check.
"""

from __future__ import annotations

from collections.abc import Sequence

from streaming_jobs.io.delta import BRONZE_TABLE, QUARANTINE_TABLE, SILVER_TABLE, table_name
from streaming_jobs.serving.schema import GOLD_TABLES

COLD_TABLE = f"{BRONZE_TABLE}_cold"
MIN_VACUUM_HOURS = 168
# Silver is read by time range and symbol; gold by its serving key.
SILVER_CLUSTER_BY = ("symbol", "event_time")


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
) -> list[str]:
    """Every statement of one maintenance run, in order."""
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
    props = ", ".join(f"'{k}' = '{v}'" for k, v in table_properties(vacuum_hours).items())
    everything = [bronze, cold, silver, quarantine, *(name for name, _ in gold.values())]
    sql: list[str] = [
        f"CREATE TABLE IF NOT EXISTS {cold} LIKE {bronze}",
        *(f"ALTER TABLE {t} SET TBLPROPERTIES ({props})" for t in everything),
        f"ALTER TABLE {silver} CLUSTER BY ({', '.join(SILVER_CLUSTER_BY)})",
        *(f"ALTER TABLE {name} CLUSTER BY ({', '.join(key)})" for name, key in gold.values()),
        _to_cold(bronze, cold, hot_days),
        f"DELETE FROM {bronze} WHERE {_older(hot_days)}",
        f"DELETE FROM {cold} WHERE {_older(cold_days)}",
        *(f"OPTIMIZE {t}" for t in [silver, *(name for name, _ in gold.values()), bronze, cold]),
        *(f"VACUUM {t} RETAIN {vacuum_hours} HOURS" for t in everything),
    ]
    return sql


def _older(days: int) -> str:
    return f"ingest_time < current_timestamp() - INTERVAL {days} DAYS"


def _to_cold(bronze: str, cold: str, hot_days: int) -> str:
    on: Sequence[str] = ("topic", "partition", "offset")
    match = " AND ".join(f"c.`{c}` <=> b.`{c}`" for c in on)
    return (
        f"MERGE INTO {cold} AS c USING (SELECT * FROM {bronze} WHERE {_older(hot_days)}) AS b "
        f"ON {match} WHEN NOT MATCHED THEN INSERT *"
    )
