"""Delta tables in Unity Catalog (`catalog.schema.table`): stream sources, append sinks, gold MERGE.

Only runs on Databricks (no Delta connector locally); the SQL it issues is
built by plain functions that the tests check as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.config import ConfigError
from streaming_jobs.io.streams import Trigger
from streaming_jobs.ops_metrics import (
    METRICS_SCHEMA_DDL,
    METRICS_TABLE,
    as_tuple,
    create_metrics_table_sql,
    quality_view_sql,
)
from streaming_jobs.serving.schema import ALERTS, GOLD_TABLES, Column, Table

BRONZE_TABLE = "trades_raw"
SILVER_TABLE = "trades"
QUARANTINE_TABLE = "trades_quarantine"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,254}$")


def table_name(catalog: str, schema: str, table: str) -> str:
    """A back-quoted three-part name; rejects anything that could smuggle SQL in."""
    for what, part in (("--catalog", catalog), ("schema", schema), ("table", table)):
        if not _IDENT.match(part or ""):
            raise ConfigError(f"{what}: {part!r} is not a Unity Catalog identifier")
    return f"`{catalog}`.`{schema}`.`{table}`"


@dataclass(frozen=True)
class DeltaTableSource:
    """A Delta table read as a stream, skipping commits that change or remove existing rows.

    A Delta streaming source fails on a commit that removes data unless told otherwise; the nightly
    maintenance job DELETEs bronze rows past `bronzeHotDays` once they are archived (maintenance.py), and
    such a commit adds no row. `skipChangeCommits` (Databricks Runtime 12.2 LTS and above) skips those
    commits whole (docs.databricks.com/structured-streaming/delta-lake.html, "Ignore updates and deletes").
    OPTIMIZE and auto-compaction commit with dataChange=false and are never seen by the stream.
    """

    name: str  # from table_name()
    max_files_per_trigger: int | None = None

    def read(self, spark: SparkSession) -> DataFrame:
        reader = spark.readStream.option("skipChangeCommits", "true")
        if self.max_files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", self.max_files_per_trigger)
        return reader.table(self.name)


@dataclass(frozen=True)
class DeltaTableSink:
    """Append; Delta's streaming sink commits each batch once (txn id = query id + batch id)."""

    name: str

    def start(self, df: DataFrame, query_name: str, checkpoint: str, trigger: Trigger) -> StreamingQuery:
        writer = (
            df.writeStream.format("delta")
            .queryName(query_name)
            .option("checkpointLocation", checkpoint)
            .outputMode("append")
        )
        return trigger.apply(writer).toTable(self.name)


@dataclass(frozen=True)
class DeltaBatchAppend:
    """Append one micro-batch from foreachBatch, idempotently: Delta records (txnAppId, txnVersion) in the
    commit and skips a write whose version this app id already committed (a replayed batch).

    One file per input partition: optimized writes (which re-bin rows into files of a target size) are
    off and records per file unlimited, so a batch the silver job hands over as one partition stays one
    file (jobs.silver.one_file; Delta's `optimizeWrite` option, DeltaOptions.OPTIMIZE_WRITE_OPTION)."""

    name: str  # from table_name()

    def append(self, rows: DataFrame, batch_id: int, writer_id: str) -> bool:
        (
            rows.write.format("delta")
            .mode("append")
            .option("txnAppId", writer_id)
            .option("txnVersion", batch_id)
            .option("optimizeWrite", "false")
            .option("maxRecordsPerFile", 0)
            .saveAsTable(self.name)
        )
        return True


# ----------------------------------------------------------------------------- gold tables


def spark_type(col: Column) -> str:
    t = col.type
    if t.startswith("VARCHAR"):
        return "STRING"
    return {"FLOAT": "DOUBLE", "BIT": "BOOLEAN", "INT": "INT"}.get(t, t)


def create_table_sql(qualified_schema: str, table: Table) -> str:
    cols = ", ".join(f"{c.name} {spark_type(c)}{'' if c.nullable else ' NOT NULL'}" for c in table.columns)
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified_schema}.`{table.name}` ({cols}) USING DELTA "
        f"COMMENT '{table.description.replace(chr(39), '')}'"
    )


def merge_sql(target: str, source_view: str, table: Table) -> str:
    """MERGE one batch by key. Alerts: a non-matching row only clears an existing alert, never inserts."""
    on = " AND ".join(f"t.{k} = s.{k}" for k in table.key)
    cols = table.column_names
    updates = ", ".join(f"t.{c} = s.{c}" for c in cols if c not in table.key and c not in table.insert_only)
    insert = f"INSERT ({', '.join(cols)}) VALUES ({', '.join('s.' + c for c in cols)})"
    if table.name != ALERTS.name:
        return (
            f"MERGE INTO {target} t USING {source_view} s ON {on} "
            f"WHEN MATCHED THEN UPDATE SET {updates} WHEN NOT MATCHED THEN {insert}"
        )
    clear = "t.active = false, t.metric_value = s.metric_value, t.batch_id = s.batch_id, t.updated_at = s.updated_at"
    return (
        f"MERGE INTO {target} t USING {source_view} s ON {on} "
        f"WHEN MATCHED AND s.active THEN UPDATE SET {updates} "
        f"WHEN MATCHED THEN UPDATE SET {clear} "
        f"WHEN NOT MATCHED AND s.active THEN {insert}"
    )


def gold_view_sql(qualified_schema: str, qualified_silver_schema: str | None = None) -> list[str]:
    """The serving views again, in Spark SQL, over the gold Delta tables (Databricks SQL dashboards); with
    the silver schema, the data-quality view over silver's trades and quarantine too (ops_metrics)."""
    s = qualified_schema
    quality = []
    if qualified_silver_schema is not None:
        silver = qualified_silver_schema
        quality = [quality_view_sql(s, f"{silver}.`{SILVER_TABLE}`", f"{silver}.`{QUARANTINE_TABLE}`")]
    return [
        f"CREATE OR REPLACE VIEW {s}.v_transaction_count_by_type AS "
        f"SELECT window_start, window_end, side, trade_count, volume FROM {s}.side_window_metrics",
        f"CREATE OR REPLACE VIEW {s}.v_price_trend AS SELECT window_start, window_end, symbol, avg_price, vwap, "
        f"open_price, close_price, high_price, low_price, price_change_pct FROM {s}.symbol_window_metrics",
        f"CREATE OR REPLACE VIEW {s}.v_cumulative_quantity AS SELECT to_date(window_start) AS trading_day, "
        f"window_start, window_end, quantity, SUM(quantity) OVER (PARTITION BY to_date(window_start) "
        f"ORDER BY window_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_quantity "
        f"FROM (SELECT window_start, MAX(window_end) AS window_end, SUM(volume) AS quantity "
        f"FROM {s}.side_window_metrics GROUP BY window_start) AS t",
        f"CREATE OR REPLACE VIEW {s}.v_total_quantity_by_symbol AS SELECT symbol, SUM(volume) AS total_quantity, "
        f"SUM(trade_count) AS trade_count FROM {s}.symbol_window_metrics GROUP BY symbol",
        f"CREATE OR REPLACE VIEW {s}.v_volume_share AS SELECT symbol, SUM(volume) AS total_quantity, "
        f"100.0 * CAST(SUM(volume) AS DOUBLE) / NULLIF(SUM(SUM(volume)) OVER (), 0) AS share_pct "
        f"FROM {s}.symbol_window_metrics GROUP BY symbol",
        f"CREATE OR REPLACE VIEW {s}.v_active_alerts AS SELECT rule_name, symbol, window_start, window_end, metric, "
        f"operator, threshold, metric_value, detected_at FROM {s}.alerts WHERE active",
        *quality,
    ]


def ensure_gold_objects(spark: SparkSession, catalog: str, schema: str, silver_schema: str) -> None:
    """The gold tables, the metrics table and the gold views, data-quality view included.

    The gold job runs this at start rather than the stack at deploy time: a Unity Catalog view is created
    over tables that exist (CREATE VIEW resolves its query: https://learn.microsoft.com/azure/databricks/
    sql/language-manual/sql-ref-syntax-ddl-create-view), and silver's tables exist once the silver job
    has run, which gold's stream over silver already waits for. Whoever reads a view needs SELECT on the
    view only; its owner, here the jobs' principal that creates it, needs SELECT on what it reads
    (https://learn.microsoft.com/azure/databricks/views/)."""
    qualified = f"`{catalog}`.`{schema}`"
    table_name(catalog, schema, "x")  # validates the identifiers
    table_name(catalog, silver_schema, "x")
    for table in GOLD_TABLES.values():
        spark.sql(create_table_sql(qualified, table))
    ensure_metrics_table(spark, catalog, schema)
    for stmt in gold_view_sql(qualified, f"`{catalog}`.`{silver_schema}`"):
        spark.sql(stmt)


def ensure_metrics_table(spark: SparkSession, catalog: str, schema: str) -> str:
    """Create the pipeline_metrics table if missing (every job does at start; the first one creates it) and
    return its name. Two jobs starting together may both find it missing: the loser's error is harmless
    once the table exists."""
    name = table_name(catalog, schema, METRICS_TABLE)
    try:
        spark.sql(create_metrics_table_sql(f"`{catalog}`.`{schema}`"))
    except Exception:
        if not spark.catalog.tableExists(name.replace("`", "")):
            raise
    return name


@dataclass(frozen=True)
class DeltaMetricsSink:
    """Appends the metrics rows to the Delta table, one small commit per publish (ops_metrics)."""

    spark: SparkSession
    name: str  # from table_name()

    def append(self, rows: Sequence[Mapping[str, Any]]) -> None:
        frame = self.spark.createDataFrame([as_tuple(r) for r in rows], METRICS_SCHEMA_DDL)
        frame.write.format("delta").mode("append").saveAsTable(self.name)


@dataclass(frozen=True)
class DeltaGoldSink:
    """Gold Delta tables, one MERGE per table per batch (values are whole figures, so a replay is a no-op)."""

    catalog: str
    schema: str

    def write_table(self, table: Table, rows: DataFrame) -> None:
        view = f"gold_batch_{table.name}"
        rows.createOrReplaceTempView(view)
        target = table_name(self.catalog, self.schema, table.name)
        rows.sparkSession.sql(merge_sql(target, view, table))
