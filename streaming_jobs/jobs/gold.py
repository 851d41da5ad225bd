"""Gold: silver -> windowed metrics and alerts, MERGEd into gold Delta tables and upserted into Azure SQL.

Every micro-batch is written by one foreachBatch call: the aggregate rows of
the batch go to each configured gold sink (Delta on Databricks, the SQL
serving database on Databricks and locally). Both writes are idempotent, so
Spark re-running a batch after a failure changes nothing that was committed.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)
from pyspark.sql import types as T  # noqa: N812
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.config import AlertRule, ConfigError, Interval, parse_alert_rules, parse_interval
from streaming_jobs.io.streams import Trigger, checkpoint_for, materialised
from streaming_jobs.jobs.common import (
    JobArgumentParser,
    add_trigger_args,
    configure,
    metrics_publisher,
    run_until_terminated,
    trigger_from,
)
from streaming_jobs.manifest import JOBS
from streaming_jobs.ops_metrics import EVENT_TIME_ACCURACY, EVENT_TIME_OBSERVATION, EVENT_TIME_QUANTILES
from streaming_jobs.serving.connections import SqlSession
from streaming_jobs.serving.schema import ALERTS, SIDE_WINDOW_METRICS, SYMBOL_WINDOW_METRICS
from streaming_jobs.serving.upsert import ALERT_CLEAR_COLUMNS, GoldBatch, apply_batch
from streaming_jobs.transforms.aggregate import (
    GRAIN_SIDE,
    GRAIN_SYMBOL,
    side_window_rows,
    symbol_window_rows,
    window_aggregates,
)
from streaming_jobs.transforms.alerts import evaluate_alerts

log = logging.getLogger("streaming_jobs.gold")
QUERY = JOBS["gold"].queries[0]
MIGRATE_MODES = ("apply", "verify", "off")


def build_parser() -> JobArgumentParser:
    p = JobArgumentParser(prog="gold_aggregate", description=JOBS["gold"].description)
    p.add_argument("--catalog", required=True)
    p.add_argument("--silver-schema", required=True)
    p.add_argument("--gold-schema", required=True)
    p.add_argument("--checkpoint-root", required=True)
    p.add_argument("--window", required=True, help="tumbling window, e.g. '1 minute'")
    p.add_argument("--alert-rules", required=True, help="JSON list of {name, metric, operator, threshold, symbols}")
    p.add_argument("--watermark", default="30 seconds", help="the silver job's watermark (same value)")
    p.add_argument("--max-future-skew", default="1 minute", help="the silver job's max future skew (same value)")
    p.add_argument("--sql-server", help="Azure SQL server FQDN; with --sql-database enables the SQL upsert")
    p.add_argument("--sql-database", help="the gold database")
    p.add_argument("--service-credential", help="Unity Catalog service credential whose identity gets the SQL token")
    p.add_argument("--sql-migrate", default="apply", choices=MIGRATE_MODES, help="start-up migration step")
    p.add_argument(
        "--max-files-per-trigger", type=int, help="cap on silver files per micro-batch (one file per silver batch)"
    )
    p.add_argument("--metrics-schema", help="schema of the pipeline_metrics table (the stack passes gold's)")
    add_trigger_args(p)
    return p


@dataclass(frozen=True)
class GoldConfig:
    catalog: str
    silver_schema: str
    gold_schema: str
    checkpoint_root: str
    window: Interval
    state_watermark: Interval
    alert_rules: tuple[AlertRule, ...]
    sql_server: str | None
    sql_database: str | None
    service_credential: str | None
    sql_migrate: str
    trigger: Trigger
    max_files_per_trigger: int | None
    metrics_schema: str | None = None


def parse_args(argv: Sequence[str]) -> GoldConfig:
    a: argparse.Namespace = build_parser().parse_args(argv)
    if bool(a.sql_server) != bool(a.sql_database):
        raise ConfigError("--sql-server and --sql-database go together (both or neither)")
    watermark = parse_interval(a.watermark, "--watermark")
    skew = parse_interval(a.max_future_skew, "--max-future-skew")
    return GoldConfig(
        catalog=a.catalog,
        silver_schema=a.silver_schema,
        gold_schema=a.gold_schema,
        checkpoint_root=a.checkpoint_root,
        window=parse_interval(a.window, "--window"),
        state_watermark=watermark + skew,
        alert_rules=parse_alert_rules(a.alert_rules),
        sql_server=a.sql_server,
        sql_database=a.sql_database,
        service_credential=a.service_credential,
        sql_migrate=a.sql_migrate,
        trigger=trigger_from(a),
        max_files_per_trigger=a.max_files_per_trigger,
        metrics_schema=a.metrics_schema,
    )


# ----------------------------------------------------------------------------- per-batch frames


@dataclass
class GoldFrames:
    """One micro-batch of gold. The per-table DataFrames are built on first use: analysing a plan
    costs tens of milliseconds, and the SQL sink needs none of them."""

    batch_id: int
    aggregates: DataFrame
    rules: tuple[AlertRule, ...]

    @cached_property
    def symbol(self) -> DataFrame:
        return symbol_window_rows(self.aggregates, self.batch_id)

    @cached_property
    def side(self) -> DataFrame:
        return side_window_rows(self.aggregates, self.batch_id)

    @cached_property
    def alerts(self) -> DataFrame | None:
        """Every rule x symbol row, matching or not."""
        return evaluate_alerts(self.symbol, self.rules)


def gold_frames(aggregates: DataFrame, batch_id: int, rules: tuple[AlertRule, ...]) -> GoldFrames:
    return GoldFrames(batch_id, aggregates, rules)


class GoldSink:
    # Spark actions one write runs on the batch (the writer materialises the batch when the sinks need several).
    actions = 1

    def write(self, frames: GoldFrames, query_id: str) -> None: ...


# ----------------------------------------------------------------------------- SQL serving sink

_TS_FORMAT = "yyyy-MM-dd HH:mm:ss.SSS"


def _plain(df: DataFrame) -> DataFrame:
    """Timestamps as UTC text and booleans as 0/1: the parameter values both SQL dialects take."""
    cols = []
    for f in df.schema.fields:
        if isinstance(f.dataType, T.TimestampType):
            cols.append(F.date_format(F.col(f.name), _TS_FORMAT).alias(f.name))
        elif isinstance(f.dataType, T.BooleanType):
            cols.append(F.col(f.name).cast("int").alias(f.name))
        else:
            cols.append(F.col(f.name))
    return df.select(*cols)


def _tuples(rows: list[Any], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    return [tuple(r[c] for c in columns) for r in rows]


def sql_batch(frames: GoldFrames, query_id: str) -> GoldBatch:
    """Collect one gold batch into rows for the SQL upsert, in one Spark action.

    Gold batches are (windows x symbols + windows x sides) rows: small. Alert rules are evaluated
    on the collected rows with AlertRule.matches, the Python twin of transforms.alerts (the tests
    hold the two to the same answers), so the batch costs one job instead of three.
    """
    batch_id = frames.batch_id
    rows = _plain(frames.aggregates.withColumn("batch_id", F.lit(batch_id).cast("long"))).collect()
    symbol_rows = [r for r in rows if r["grain"] == GRAIN_SYMBOL]
    batch = GoldBatch(query_id=query_id, batch_id=batch_id)
    batch.rows[SYMBOL_WINDOW_METRICS.name] = _tuples(symbol_rows, SYMBOL_WINDOW_METRICS.column_names)
    batch.rows[SIDE_WINDOW_METRICS.name] = _tuples(
        [r for r in rows if r["grain"] == GRAIN_SIDE], SIDE_WINDOW_METRICS.column_names
    )
    hits: list[tuple[Any, ...]] = []
    for r in symbol_rows:
        for rule in frames.rules:
            value = r[rule.metric]
            if value is None:
                continue
            if rule.matches(value, r["symbol"]):
                alert = {
                    "rule_name": rule.name,
                    "symbol": r["symbol"],
                    "window_start": r["window_start"],
                    "window_end": r["window_end"],
                    "metric": rule.metric,
                    "operator": rule.operator,
                    "threshold": rule.threshold,
                    "metric_value": float(value),
                    "active": 1,
                    "first_batch_id": batch_id,
                    "detected_at": r["updated_at"],
                    "batch_id": batch_id,
                    "updated_at": r["updated_at"],
                }
                hits.append(tuple(alert[c] for c in ALERTS.column_names))
            else:
                clear = {
                    "metric_value": float(value),
                    "batch_id": batch_id,
                    "updated_at": r["updated_at"],
                    "rule_name": rule.name,
                    "symbol": r["symbol"],
                    "window_start": r["window_start"],
                }
                batch.alert_clears.append(tuple(clear[c] for c in ALERT_CLEAR_COLUMNS))
    if hits:
        batch.rows[ALERTS.name] = hits
    return batch


@dataclass
class SqlGoldSink(GoldSink):
    """The serving database (Azure SQL on Databricks, SQLite locally), one transaction per batch."""

    session_factory: Callable[[], SqlSession]
    _session: SqlSession | None = None
    applied: int = 0
    skipped: int = 0

    def write(self, frames: GoldFrames, query_id: str) -> None:
        batch = sql_batch(frames, query_id)
        if self._session is None:
            self._session = self.session_factory()
        try:
            if apply_batch(self._session, batch):
                self.applied += 1
            else:
                self.skipped += 1
                log.info("gold batch %s of query %s already in the serving ledger: skipped", batch.batch_id, query_id)
        except Exception:
            # A broken connection must not be reused by the retried batch.
            self._session.close()
            self._session = None
            raise

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


@dataclass
class DeltaGoldWriter(GoldSink):
    """Gold Delta tables (Databricks)."""

    catalog: str
    schema: str
    actions = 3

    def write(self, frames: GoldFrames, query_id: str) -> None:
        from streaming_jobs.io.delta import DeltaGoldSink

        sink = DeltaGoldSink(self.catalog, self.schema)
        # The percentages are exact decimals in the frames (alerts compare them exactly) and FLOAT columns
        # in the tables (serving/schema.py): cast here rather than leave it to MERGE's assignment rules.
        pct = {c: F.col(c).cast("double") for c in ("price_change_pct", "price_range_pct")}
        sink.write_table(SYMBOL_WINDOW_METRICS, frames.symbol.withColumns(pct))
        sink.write_table(SIDE_WINDOW_METRICS, frames.side)
        if frames.alerts is not None:
            alerts = frames.alerts.withColumn("first_batch_id", F.col("batch_id")).withColumn(
                "detected_at", F.col("updated_at")
            )
            sink.write_table(ALERTS, alerts.select(*ALERTS.column_names))


# ----------------------------------------------------------------------------- the query


# Commit times kept for the metrics publisher (it drops each one it publishes); a publisher that stopped
# reading must not let them grow without bound.
MAX_COMMITS_KEPT = 1000


@dataclass
class GoldBatchWriter:
    """The foreachBatch function: every sink gets the batch; then its commit time is recorded
    (`committed_at`, by batch id: the serving commit the published latency is measured at) and
    `on_commit` is called (the local latency measurement)."""

    rules: tuple[AlertRule, ...]
    sinks: list[GoldSink]
    on_commit: Callable[[str, int], None] | None = None
    # Test hook: raise after the sinks committed but before Spark records the batch (a crash).
    fail_after_commit: Callable[[int], bool] | None = None
    batches: int = field(default=0)
    committed_at: dict[int, float] = field(default_factory=dict)

    def __call__(self, aggregates: DataFrame, batch_id: int) -> None:
        spark = aggregates.sparkSession
        # The streaming query's id: stable across restarts from the same checkpoint.
        query_id = spark.sparkContext.getLocalProperty("sql.streaming.queryId") or QUERY
        read_once = sum(s.actions for s in self.sinks) <= 1
        with nullcontext(aggregates) if read_once else materialised(aggregates) as batch:
            frames = gold_frames(batch, batch_id, self.rules)
            for sink in self.sinks:
                sink.write(frames, query_id)
        # foreachBatch runs on Spark's callback thread while the job's main thread pops what it published:
        # list() copies the keys in one step under the GIL, and pop tolerates a key already gone.
        self.committed_at[batch_id] = time.time()
        for stale in list(self.committed_at)[:-MAX_COMMITS_KEPT]:
            self.committed_at.pop(stale, None)
        self.batches += 1
        if self.on_commit is not None:
            self.on_commit(query_id, batch_id)
        if self.fail_after_commit is not None and self.fail_after_commit(batch_id):
            raise RuntimeError(f"injected failure after committing gold batch {batch_id}")


def observe_batch_event_times(silver: DataFrame) -> DataFrame:
    """Adds gold's published per-batch metric (ops_metrics.EVENT_TIME_OBSERVATION): the rows read and the
    0.5 and 0.01 quantiles of their event times (epoch ms). `percentile_approx` keeps a bounded sketch per
    batch, whatever its size, and returns the value of rank ceil(q * n) (exact up to EVENT_TIME_ACCURACY
    rows); no list of event times travels in the progress."""
    ms = F.unix_millis(F.col("event_time"))
    quantiles = F.array(*(F.lit(q) for q in EVENT_TIME_QUANTILES))
    return silver.observe(
        EVENT_TIME_OBSERVATION,
        F.count(F.lit(1)).alias("rows"),
        F.percentile_approx(ms, quantiles, F.lit(EVENT_TIME_ACCURACY)).alias("event_ms_quantiles"),
    )


def gold_stream(silver: DataFrame, window: Interval, state_watermark: Interval) -> DataFrame:
    """The windowed aggregates of silver, with the batch's event-time quantiles observed on its input (the
    published latency: streaming_jobs/ops_metrics.py)."""
    return window_aggregates(observe_batch_event_times(silver), window, state_watermark)


def start_gold(
    silver: DataFrame,
    window: Interval,
    state_watermark: Interval,
    writer: GoldBatchWriter,
    checkpoint_root: str,
    trigger: Trigger,
) -> StreamingQuery:
    writer_stream = (
        gold_stream(silver, window, state_watermark)
        .writeStream.queryName(QUERY)
        .outputMode("update")
        .option("checkpointLocation", checkpoint_for(checkpoint_root, QUERY))
        .foreachBatch(writer)
    )
    return trigger.apply(writer_stream).start()


def main(argv: Sequence[str]) -> None:
    cfg = parse_args(argv)
    from streaming_jobs.io.delta import SILVER_TABLE, DeltaTableSource, ensure_gold_objects, table_name
    from streaming_jobs.serving.connections import JdbcSqlServerSession, default_credential
    from streaming_jobs.serving.migrate import migrate

    source = DeltaTableSource(table_name(cfg.catalog, cfg.silver_schema, SILVER_TABLE), cfg.max_files_per_trigger)
    spark = configure(SparkSession.builder.getOrCreate())
    ensure_gold_objects(spark, cfg.catalog, cfg.gold_schema, cfg.silver_schema)
    sinks: list[GoldSink] = [DeltaGoldWriter(cfg.catalog, cfg.gold_schema)]
    if cfg.sql_server and cfg.sql_database:
        server, database = cfg.sql_server, cfg.sql_database
        credential = default_credential(cfg.service_credential, spark)

        def connect() -> SqlSession:
            return JdbcSqlServerSession(spark, server, database, credential)

        if cfg.sql_migrate != "off":
            session = connect()
            try:
                report = migrate(session, apply=cfg.sql_migrate == "apply")
            finally:
                session.close()
            log.info("serving migrations: applied %s, already applied %s", report.applied, report.already_applied)
        sinks.append(SqlGoldSink(connect))
    writer = GoldBatchWriter(cfg.alert_rules, sinks)
    publisher = metrics_publisher(spark, cfg.catalog, cfg.metrics_schema, "gold", {QUERY: writer.committed_at})
    query = start_gold(source.read(spark), cfg.window, cfg.state_watermark, writer, cfg.checkpoint_root, cfg.trigger)
    run_until_terminated(spark, [query], publisher)
