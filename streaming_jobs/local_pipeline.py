"""The whole pipeline on local Spark: landing dir -> bronze -> silver (+ quarantine) -> gold (SQLite).

The same job functions and transformations as on Databricks; only the edges
differ: the landing directory replaces Kafka, parquet directories (written by
Spark's exactly-once file sink) replace Delta tables, and a SQLite file
replaces Azure SQL behind the same migration runner and upsert. Silver's two
tables are BatchDirTables: appended per micro-batch from foreachBatch, like the
Delta tables on Databricks.
Used by the local run command, the tests and the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyspark
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.config import AlertRule, Interval, ValidationRules
from streaming_jobs.io.files import BatchDirTable, LandingSource, ParquetSink, ParquetSource
from streaming_jobs.io.streams import Trigger
from streaming_jobs.jobs.bronze import start_bronze
from streaming_jobs.jobs.common import HDFS, JOB_CONF, ROCKSDB
from streaming_jobs.jobs.gold import GoldBatchWriter, SqlGoldSink, start_gold
from streaming_jobs.jobs.silver import SilverBatchWriter, start_silver
from streaming_jobs.manifest import JOBS
from streaming_jobs.metrics import LatencyTracker, observe_event_times
from streaming_jobs.ops_metrics import METRICS_SCHEMA_DDL, METRICS_TABLE, STAGES, MetricsPublisher, as_tuple
from streaming_jobs.runtime import local_only_conf
from streaming_jobs.schemas import BRONZE_SCHEMA, QUARANTINE_SCHEMA, SILVER_SCHEMA
from streaming_jobs.serving.connections import SqliteSession
from streaming_jobs.serving.migrate import migrate

STATE_STORES = {"rocksdb": ROCKSDB, "hdfs": HDFS}

# One JVM runs driver and executors here. The parallel collector's write barrier is cheaper than G1's,
# and the HDFS state store rewrites its whole id map (~10^6 references) every micro-batch: at 10,000
# events/s silver's micro-batches took ~25 % less time, and latency p99 fell 4.04 -> 3.32 s
# (bench_streaming.py --java-options=-XX:+UseG1GC runs the same benchmark on G1).
# -Xss16m: a query stopped in the middle of a foreachBatch (Ctrl-C) fails its Python call with a long
# py4j traceback, which Spark matches against a backtracking regex (StreamExecution.PROXY_ERROR) to
# know it was a stop; with the default 1 MB thread stack that match overflowed (StackOverflowError, a
# thousand-line trace on Ctrl-C) for tracebacks past ~5 KB.
LOCAL_JVM_OPTIONS = "-XX:+UseParallelGC -Xss16m"


def jvm_options(java_options: str, driver_memory: str) -> str:
    """The driver's options with its heap committed at its maximum (-Xms = spark.driver.memory) from the
    start, unless they set -Xms themselves.

    The parallel collector's adaptive sizing otherwise kept the heap near half its maximum, so silver's
    de-duplication ids (~10^6 per micro-batch) were copied young to old and then compacted by full
    collections (~0.8 s each) as the heap grew; committed at 6 g, silver + gold ran ~1.1x faster
    (streaming_jobs/README.md, change 15). Spark refuses -Xmx here and sets it from driver_memory, so
    -Xms derives from the same value and can never exceed it.
    """
    if "-Xms" in java_options:
        return java_options
    return f"{java_options} -Xms{driver_memory}".strip()


# Checkpoint file manager and local file system for the installed PySpark's line (streaming_jobs/runtime.py
# chooses by version; nothing of it is deployed).
LOCAL_FILESYSTEM_CONF = local_only_conf(pyspark.__version__)


def local_session(
    app: str = "rta-local",
    *,
    cores: int = 2,
    shuffle_partitions: int = 2,
    state_store: str = "rocksdb",
    driver_memory: str = "4g",
    java_options: str = LOCAL_JVM_OPTIONS,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """A local[cores] session with the jobs' settings; no UI, quiet logs."""
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.extraJavaOptions", jvm_options(java_options, driver_memory))
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.streaming.noDataMicroBatches.enabled", "false")
        # Three streams share two cores here: re-listing an idle source every 10 ms (the default) cost
        # 0.5 CPU with no data at all; 100 ms costs 0.09 and adds at most 0.1 s per hop.
        .config("spark.sql.streaming.pollingDelay", "100ms")
        # Gold's source lists one directory per silver batch on every trigger; past 32 paths Spark lists
        # them with a distributed job, ~10x a plain listing on one machine (benchmarks/bench_batch_listing.py).
        .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "1000000")
    )
    for key, value in LOCAL_FILESYSTEM_CONF.items():
        builder = builder.config(key, value)
    settings = {**JOB_CONF, "spark.sql.streaming.stateStore.providerClass": STATE_STORES[state_store], **(conf or {})}
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@dataclass(frozen=True)
class LocalPaths:
    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def bronze(self) -> Path:
        return self.root / "bronze" / "trades_raw"

    @property
    def silver(self) -> Path:
        return self.root / "silver" / "trades"

    @property
    def quarantine(self) -> Path:
        return self.root / "silver" / "trades_quarantine"

    @property
    def silver_table(self) -> BatchDirTable:
        return BatchDirTable(str(self.silver), SILVER_SCHEMA)

    @property
    def quarantine_table(self) -> BatchDirTable:
        return BatchDirTable(str(self.quarantine), QUARANTINE_SCHEMA)

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def gold_db(self) -> Path:
        return self.root / "gold.db"

    @property
    def metrics(self) -> Path:
        """The jobs' pipeline_metrics rows (a parquet directory; a Delta table in gold on Databricks)."""
        return self.root / "gold" / METRICS_TABLE

    def create(self) -> None:
        self.landing.mkdir(parents=True, exist_ok=True)
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        # A file-sink directory must carry its _spark_metadata log before a stream reads it, so the reader
        # only ever sees committed files (never a half-written batch).
        (self.bronze / "_spark_metadata").mkdir(parents=True, exist_ok=True)
        for table in (self.silver, self.quarantine):
            table.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class LocalMetricsSink:
    """The metrics rows appended to the local parquet directory: the same rows and columns the jobs append to
    the Delta table on Databricks (io/delta.DeltaMetricsSink)."""

    spark: SparkSession
    path: Path

    def append(self, rows: Sequence[Mapping[str, Any]]) -> None:
        frame = self.spark.createDataFrame([as_tuple(r) for r in rows], METRICS_SCHEMA_DDL)
        frame.write.mode("append").parquet(str(self.path))


def local_publisher(spark: SparkSession, paths: LocalPaths) -> MetricsPublisher:
    """A publisher for every stage's query into paths.metrics; gold's commit times are added once its writer
    exists (`publisher.commits[query] = writer.committed_at`)."""
    stages = {query: stage for stage in STAGES for query in JOBS[stage].queries}
    return MetricsPublisher(LocalMetricsSink(spark, paths.metrics), stages)


@dataclass
class PipelineSettings:
    rules: ValidationRules
    window: Interval
    alert_rules: tuple[AlertRule, ...] = ()
    trigger: Trigger = field(default_factory=Trigger)
    max_files_per_trigger: int | None = None  # landing files per bronze batch
    max_bronze_files_per_trigger: int | None = None
    max_silver_files_per_trigger: int | None = None
    observe_latency: bool = False
    latency_sample_every: int = 1
    clean_landing: bool = False  # delete landing files once bronze committed them


@dataclass
class LocalPipeline:
    queries: dict[str, StreamingQuery]
    gold_sink: SqlGoldSink
    writer: GoldBatchWriter

    def stop(self) -> None:
        for q in self.queries.values():
            if q.isActive:
                q.stop()
        self.gold_sink.close()

    def failed(self) -> str | None:
        for name, q in self.queries.items():
            exc = q.exception()
            if exc is not None:
                return f"{name}: {exc}"
        return None


def prepare_gold_db(paths: LocalPaths) -> None:
    session = SqliteSession(paths.gold_db)
    try:
        migrate(session)
    finally:
        session.close()


def start_stage(
    stage: str,
    spark: SparkSession,
    paths: LocalPaths,
    settings: PipelineSettings,
    *,
    tracker: LatencyTracker | None = None,
    fail_after_commit: Callable[[int], bool] | None = None,
    trigger: Trigger | None = None,
) -> tuple[dict[str, StreamingQuery], LocalPipeline | None]:
    """Start one stage (bronze, silver or gold) on the local edges. `fail_after_commit` (tests) makes
    silver fail between its two tables' appends and gold right after its SQL commit."""
    trig = trigger or settings.trigger
    root = str(paths.checkpoints)
    if stage == "bronze":
        clean = "delete" if settings.clean_landing else None
        src = LandingSource(str(paths.landing), settings.max_files_per_trigger, clean).read(spark)
        q = start_bronze(src, ParquetSink(str(paths.bronze)), root, trig)
        return {q.name: q}, None
    if stage == "silver":
        src = ParquetSource(str(paths.bronze), BRONZE_SCHEMA, settings.max_bronze_files_per_trigger).read(spark)
        silver_writer = SilverBatchWriter(
            paths.silver_table, paths.quarantine_table, settings.rules, fail_after_trades=fail_after_commit
        )
        q = start_silver(src, settings.rules, silver_writer, root, trig)
        return {q.name: q}, None
    if stage == "gold":
        prepare_gold_db(paths)
        gold_db = paths.gold_db
        sink = SqlGoldSink(lambda: SqliteSession(gold_db))
        gold_writer = GoldBatchWriter(
            settings.alert_rules,
            [sink],
            on_commit=tracker.committed if tracker is not None else None,
            fail_after_commit=fail_after_commit,
        )
        src = paths.silver_table.read_stream(spark, settings.max_silver_files_per_trigger)
        if settings.observe_latency:
            src = observe_event_times(src, settings.latency_sample_every)
        q = start_gold(src, settings.window, settings.rules.state_watermark, gold_writer, root, trig)
        return {q.name: q}, LocalPipeline({q.name: q}, sink, gold_writer)
    raise ValueError(f"unknown stage {stage!r}")


def start_local_pipeline(
    spark: SparkSession,
    paths: LocalPaths,
    settings: PipelineSettings,
    *,
    tracker: LatencyTracker | None = None,
) -> LocalPipeline:
    """Start bronze, silver and gold as concurrent streams (sinks before the sources that read them)."""
    paths.create()
    queries: dict[str, StreamingQuery] = {}
    for stage in ("bronze", "silver"):
        started, _ = start_stage(stage, spark, paths, settings)
        queries.update(started)
    started, gold = start_stage("gold", spark, paths, settings, tracker=tracker)
    assert gold is not None
    queries.update(started)
    return LocalPipeline(queries, gold.gold_sink, gold.writer)
