"""Runtime smoke job: does the cluster the stack deployed run what the tests ran?

Run on demand (and by the deploy pipeline after `pulumi up`, tools/run_smoke_job.py) on a job cluster
exactly like the streaming jobs' (same policy, runtime and spark_conf). It checks, before touching
anything:

* the cluster's Apache Spark is on the line the tests run (streaming_jobs/runtime.py SPARK_LINE);
* every PySpark API the deployed jobs call exists, with the keyword parameters they pass (REQUIRED_APIS;
  tests/streaming/test_smoke.py keeps the list complete by reading the jobs' source);
* every semantics setting (ANSI mode, ...) is in force as the cluster started, before the job sets
  anything itself, and so is the stateful stages' state store (runtime.STATEFUL_CLUSTER_CONF: it runs on
  silver's cluster);

then runs one tiny pass of the real bronze -> silver -> gold code with `availableNow` triggers on Delta
tables in a scratch schema: a handful of events (a duplicate, a malformed record and an unknown symbol
among them) must come out as the expected trades, quarantine rows and gold figures. Every failed check is
listed in one error, and the run fails.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from streaming_jobs.config import ConfigError, ValidationRules, parse_interval
from streaming_jobs.jobs.common import JobArgumentParser
from streaming_jobs.manifest import SMOKE_JOB
from streaming_jobs.runtime import SPARK_LINE, SPARK_SEMANTICS, STATEFUL_CLUSTER_CONF, spark_line

log = logging.getLogger("streaming_jobs.smoke")


class SmokeTestError(RuntimeError):
    """The runtime is not what the jobs were tested on; the message lists every finding."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"runtime smoke test failed ({len(self.problems)} problems):\n" + "\n".join(f"- {p}" for p in problems)
        )


@dataclass(frozen=True)
class Api:
    """A PySpark API the jobs call: `owner` names a class (api_owners) or the functions module; `params` are
    the keyword parameters the jobs pass to it."""

    owner: str
    name: str
    params: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.owner}.{self.name}({', '.join(f'{p}=' for p in self.params)})"


def _apis(owner: str, *names: str) -> tuple[Api, ...]:
    return tuple(Api(owner, n) for n in names)


# Every PySpark API the deployed jobs (bronze, silver, gold and the smoke job itself) call.
REQUIRED_APIS: tuple[Api, ...] = (
    *_apis(
        "functions",
        "aggregate",
        "array",
        "array_compact",
        "array_distinct",
        "broadcast",
        "coalesce",
        "col",
        "concat",
        "contains",
        "count",
        "current_timestamp",
        "date_format",
        "endswith",
        "explode",
        "expr",
        "from_json",
        "grouping_id",
        "is_valid_utf8",
        "lit",
        "max",
        "min",
        "octet_length",
        # Gold's published latency: two event-time quantiles per batch (jobs/gold.observe_batch_event_times).
        "percentile_approx",
        "pmod",
        "regexp_replace",
        "row_number",
        "schema_of_variant",
        "sequence",
        "size",
        "startswith",
        "substring",
        "substring_index",
        "sum",
        "timestamp_micros",
        "trim",
        "unix_micros",
        "unix_millis",
        "upper",
        "when",
        "window",
        "xxhash64",
    ),
    *_apis(
        "DataFrame",
        "agg",
        "alias",
        "collect",
        "columns",
        "createOrReplaceTempView",
        "drop",
        "dropDuplicatesWithinWatermark",
        "filter",
        "groupBy",
        "groupingSets",
        "join",
        "observe",
        "repartition",
        "schema",
        "select",
        "sparkSession",
        "unionByName",
        "withColumn",
        "withColumns",
        "withWatermark",
        "write",
        "writeStream",
    ),
    # Silver and gold materialise each micro-batch once, deserialized (io/streams.materialised).
    Api("DataFrame", "localCheckpoint", ("eager", "storageLevel")),
    Api("StorageLevel", "MEMORY_AND_DISK_DESER"),
    *_apis(
        "Column",
        "alias",
        "asc_nulls_first",
        "cast",
        "isNotNull",
        "isNull",
        "isin",
        "otherwise",
        "over",
        "rlike",
        "try_cast",
        "when",
    ),
    # Silver's choice of the first copy of an event id in a micro-batch (transforms/dedupe.first_copies).
    *_apis("Window", "partitionBy", "unboundedFollowing", "unboundedPreceding"),
    *_apis("WindowSpec", "orderBy", "rowsBetween"),
    *_apis("DataFrameWriter", "format", "mode", "option", "saveAsTable"),
    *_apis("DataStreamReader", "load", "option", "options", "format", "table"),
    *_apis("DataStreamWriter", "foreachBatch", "format", "option", "outputMode", "queryName", "start", "toTable"),
    Api("DataStreamWriter", "trigger", ("availableNow", "processingTime")),
    *_apis("StreamingQuery", "awaitTermination", "exception", "isActive", "name", "stop"),
    # The jobs' published metrics come from their queries' progress (jobs/common.publish).
    Api("StreamingQuery", "recentProgress"),
    *_apis("StreamingQueryManager", "awaitAnyTermination", "resetTerminated"),
    *_apis(
        "SparkSession",
        "builder",
        "conf",
        "createDataFrame",
        "range",
        "read",
        "readStream",
        "sparkContext",
        "sql",
        "streams",
        "table",
    ),
    Api("Builder", "getOrCreate"),
    *_apis("RuntimeConfig", "get", "set"),
    *_apis("SparkContext", "getLocalProperty"),
)


def api_owners(spark: Any) -> dict[str, Any]:
    """The classes the running session hands out (classic or Connect alike), and the functions module."""
    from pyspark import SparkContext, StorageLevel
    from pyspark.sql import SparkSession, Window, functions
    from pyspark.sql.streaming import StreamingQuery

    df = spark.range(1)
    stream = spark.readStream.format("rate").load()
    return {
        "functions": functions,
        "StorageLevel": StorageLevel,
        "DataFrame": type(df),
        "Column": type(functions.col("x")),
        "Window": Window,
        "WindowSpec": type(Window.partitionBy("x")),
        "DataFrameWriter": type(df.write),
        "DataStreamReader": type(spark.readStream),
        "DataStreamWriter": type(stream.writeStream),
        "StreamingQuery": StreamingQuery,
        "StreamingQueryManager": type(spark.streams),
        "SparkSession": type(spark),
        "Builder": type(SparkSession.builder),
        "RuntimeConfig": type(spark.conf),
        "SparkContext": SparkContext,
    }


def missing_apis(owners: Mapping[str, Any], apis: Iterable[Api] = REQUIRED_APIS) -> list[str]:
    """Each API absent from its owner, or lacking a keyword parameter the jobs pass."""
    problems = []
    for api in apis:
        owner = owners.get(api.owner)
        if owner is None:
            problems.append(f"{api}: no {api.owner} to look it up on")
            continue
        member = inspect.getattr_static(owner, api.name, None)
        if member is None:
            problems.append(f"{api}: {api.owner} has no {api.name}")
            continue
        if not api.params:
            continue
        try:
            signature = inspect.signature(getattr(owner, api.name))
        except (TypeError, ValueError):
            problems.append(f"{api}: the signature of {api.owner}.{api.name} cannot be read")
            continue
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
        lacking = [p for p in api.params if p not in signature.parameters and not accepts_any]
        if lacking:
            problems.append(f"{api}: {api.owner}.{api.name} takes no {', '.join(lacking)}")
    return problems


def version_problems(spark_version: str, pyspark_version: str, line: str = SPARK_LINE) -> list[str]:
    problems = []
    if spark_line(spark_version) != line:
        problems.append(f"the cluster runs Apache Spark {spark_version}; the jobs are tested on Spark {line}")
    if spark_line(pyspark_version) != line:
        problems.append(f"the cluster's PySpark is {pyspark_version}; the jobs are tested on PySpark {line}")
    return problems


def settings_problems(get: Callable[[str], str | None], expected: Mapping[str, str] = SPARK_SEMANTICS) -> list[str]:
    """Each setting whose value in force differs from the one the jobs were tested with."""
    problems = []
    for key, value in expected.items():
        actual = get(key)
        if actual is None or actual.strip().lower() != value.lower():
            problems.append(f"{key} is {actual!r}, the jobs are tested with {value!r}")
    return problems


def conf_getter(spark: Any) -> Callable[[str], str | None]:
    def get(key: str) -> str | None:
        value: str | None = spark.conf.get(key, None)
        return value

    return get


def preflight(spark: Any) -> list[str]:
    """Version, API and settings checks: everything that needs no table."""
    import pyspark

    problems = version_problems(spark.version, pyspark.__version__)
    problems += missing_apis(api_owners(spark))
    problems += settings_problems(conf_getter(spark))
    return problems


# ----------------------------------------------------------------------------- the tiny pass

SMOKE_SYMBOLS = ("SMOKEA", "SMOKEB")


@dataclass(frozen=True)
class SmokeEvents:
    """A handful of bronze payloads and what silver and gold must make of them."""

    payloads: tuple[str, ...]
    trades: int  # accepted, de-duplicated
    quarantined: int
    volume: int  # sum of accepted quantities


def smoke_events(now: datetime) -> SmokeEvents:
    """Four trades (two symbols x two sides), a duplicate of the first, a malformed record, an unknown symbol."""
    t = (now - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def event(n: int, symbol: str, side: str, quantity: int) -> str:
        return (
            f'{{"event_id":"smoke-{n}","symbol":"{symbol}","side":"{side}","price":100.5,'
            f'"quantity":{quantity},"event_time":"{t}"}}'
        )

    trades = [
        event(1, "SMOKEA", "BUY", 10),
        event(2, "SMOKEA", "SELL", 20),
        event(3, "SMOKEB", "BUY", 30),
        event(4, "SMOKEB", "SELL", 40),
    ]
    rejected = ['{"event_id":"smoke-5","symbol":', event(6, "NOTLISTED", "BUY", 1)]
    return SmokeEvents((*trades, trades[0], *rejected), trades=4, quarantined=2, volume=100)


def smoke_rules() -> ValidationRules:
    return ValidationRules(symbols=SMOKE_SYMBOLS, watermark=parse_interval("30 seconds", "--watermark"))


@dataclass(frozen=True)
class SmokeConfig:
    catalog: str
    scratch_schema: str
    checkpoint_root: str
    timeout_seconds: int


def build_parser() -> JobArgumentParser:
    p = JobArgumentParser(prog="runtime_smoke", description=SMOKE_JOB.description)
    p.add_argument("--catalog", required=True)
    p.add_argument("--scratch-schema", required=True, help="schema the pass creates and drops its tables in")
    p.add_argument("--checkpoint-root", required=True, help="the pass's checkpoints go to <root>/<run id>")
    p.add_argument("--timeout-seconds", type=int, default=600, help="per stream of the pass")
    return p


def parse_args(argv: Sequence[str]) -> SmokeConfig:
    a = build_parser().parse_args(argv)
    if a.timeout_seconds <= 0:
        raise ConfigError("--timeout-seconds: must be positive")
    return SmokeConfig(a.catalog, a.scratch_schema, a.checkpoint_root, a.timeout_seconds)


def _await(query: Any, timeout_seconds: int) -> str | None:
    """Wait for an availableNow query; the problem if it failed or did not finish."""
    finished = query.awaitTermination(timeout_seconds)
    if not finished:
        query.stop()
        return f"query {query.name} did not finish within {timeout_seconds} s"
    exc = query.exception()
    return None if exc is None else f"query {query.name} failed: {exc}"


def published_metrics_problems(gold: Any, writer: Any, trades: int) -> list[str]:
    """The metrics the gold job publishes, on this cluster: its progress documents (jobs/common) carry the
    observed event-time quantiles, and the rows built from them (ops_metrics) count every trade and have a
    latency at the commit the writer recorded."""
    from streaming_jobs.jobs.common import progress_documents
    from streaming_jobs.jobs.gold import QUERY
    from streaming_jobs.ops_metrics import MetricsPublisher

    class Rows:
        def __init__(self) -> None:
            self.rows: list[Any] = []

        def append(self, rows: Any) -> None:
            self.rows.extend(rows)

    sink = Rows()
    MetricsPublisher(sink, {QUERY: "gold"}, {QUERY: writer.committed_at}).publish(progress_documents([gold]))
    read = sum(r["input_rows"] for r in sink.rows)
    with_latency = [r for r in sink.rows if r["latency_p99_seconds"] is not None]
    problems = []
    if read != trades:
        problems.append(f"gold's published metrics count {read} input rows, expected {trades}")
    if not with_latency or any(r["latency_p99_seconds"] < r["latency_p50_seconds"] for r in with_latency):
        problems.append(f"gold published no consistent latency p50/p99: {sink.rows}")
    return problems


def run_pass(spark: Any, cfg: SmokeConfig) -> list[str]:
    """bronze -> silver -> gold once, availableNow, on Delta tables in the scratch schema; then compare."""
    from pyspark.sql import functions as F  # noqa: N812

    from streaming_jobs.io.delta import (
        BRONZE_TABLE,
        QUARANTINE_TABLE,
        SILVER_TABLE,
        DeltaBatchAppend,
        DeltaTableSource,
        ensure_gold_objects,
        gold_view_sql,
        table_name,
    )
    from streaming_jobs.io.secrets import dbutils_for
    from streaming_jobs.io.streams import Trigger
    from streaming_jobs.jobs.gold import DeltaGoldWriter, GoldBatchWriter, start_gold
    from streaming_jobs.jobs.silver import SilverBatchWriter, start_silver
    from streaming_jobs.ops_metrics import METRICS_TABLE
    from streaming_jobs.schemas import BRONZE_SCHEMA
    from streaming_jobs.serving.schema import GOLD_TABLES, SIDE_WINDOW_METRICS, SYMBOL_WINDOW_METRICS

    def name(table: str) -> str:
        return table_name(cfg.catalog, cfg.scratch_schema, table)

    scratch = f"`{cfg.catalog}`.`{cfg.scratch_schema}`"

    tables = [
        name(t)
        for t in (BRONZE_TABLE, SILVER_TABLE, QUARANTINE_TABLE, METRICS_TABLE, *(t.name for t in GOLD_TABLES.values()))
    ]
    views = [
        stmt.split(" AS ", 1)[0].removeprefix("CREATE OR REPLACE VIEW ") for stmt in gold_view_sql(scratch, scratch)
    ]
    checkpoints = f"{cfg.checkpoint_root.rstrip('/')}/{uuid.uuid4().hex[:12]}"
    rules = smoke_rules()
    once = Trigger(available_now=True)
    now = datetime.now(UTC)  # time-zone aware: Spark reads it as this instant whatever the driver's zone
    events = smoke_events(now)
    problems: list[str] = []

    def drop_all() -> None:
        for view in views:
            spark.sql(f"DROP VIEW IF EXISTS {view}")
        for table in tables:
            spark.sql(f"DROP TABLE IF EXISTS {table}")

    drop_all()
    try:
        rows = [(p, None, "smoke", 0, i, now, None, now) for i, p in enumerate(events.payloads)]
        spark.createDataFrame(rows, BRONZE_SCHEMA).write.format("delta").mode("append").saveAsTable(name(BRONZE_TABLE))
        silver_writer = SilverBatchWriter(
            DeltaBatchAppend(name(SILVER_TABLE)), DeltaBatchAppend(name(QUARANTINE_TABLE)), rules
        )
        # The silver tables must exist before gold reads them, even if a batch wrote nothing to one.
        silver = start_silver(DeltaTableSource(name(BRONZE_TABLE)).read(spark), rules, silver_writer, checkpoints, once)
        failed = _await(silver, cfg.timeout_seconds)
        if failed:
            return [failed]
        trades = spark.table(name(SILVER_TABLE)).count()
        quarantined = spark.table(name(QUARANTINE_TABLE)).count()
        if trades != events.trades:
            problems.append(f"silver accepted {trades} trades, expected {events.trades}")
        if quarantined != events.quarantined:
            problems.append(f"silver quarantined {quarantined} records, expected {events.quarantined}")
        ensure_gold_objects(spark, cfg.catalog, cfg.scratch_schema, cfg.scratch_schema)
        gold_writer = GoldBatchWriter((), [DeltaGoldWriter(cfg.catalog, cfg.scratch_schema)])
        gold = start_gold(
            DeltaTableSource(name(SILVER_TABLE)).read(spark),
            parse_interval("1 minute", "--window"),
            rules.state_watermark,
            gold_writer,
            checkpoints,
            once,
        )
        failed = _await(gold, cfg.timeout_seconds)
        if failed:
            return [*problems, failed]
        for table in (SYMBOL_WINDOW_METRICS, SIDE_WINDOW_METRICS):
            got = spark.table(name(table.name)).agg(F.sum("trade_count"), F.sum("volume")).collect()[0]
            if (got[0], got[1]) != (events.trades, events.volume):
                problems.append(
                    f"gold {table.name} counts {got[0]} trades of volume {got[1]}, "
                    f"expected {events.trades} of {events.volume}"
                )
        problems += published_metrics_problems(gold, gold_writer, events.trades)
    finally:
        drop_all()
        try:
            dbutils_for(spark).fs.rm(checkpoints, True)
        except Exception as exc:
            log.warning("could not remove the smoke run's checkpoints %s: %s", checkpoints, exc)
    return problems


def main(argv: Sequence[str]) -> None:
    cfg = parse_args(argv)
    from pyspark.sql import SparkSession

    from streaming_jobs.jobs.common import configure

    spark = SparkSession.builder.getOrCreate()
    # Before the job sets anything: what the cluster itself runs with. The smoke job runs on silver's cluster
    # (components/databricks_jobs.py), a stateful stage's: Databricks' RocksDB state store must be in force.
    problems = preflight(spark) + settings_problems(conf_getter(spark), STATEFUL_CLUSTER_CONF)
    if not missing_apis(api_owners(spark)):  # without its APIs the pass could only crash
        problems += run_pass(configure(spark), cfg)
    if problems:
        raise SmokeTestError(problems)
    log.info(
        "runtime smoke test passed: Spark %s, %d APIs, %d settings, bronze -> silver -> gold",
        spark.version,
        len(REQUIRED_APIS),
        len(SPARK_SEMANTICS),
    )
