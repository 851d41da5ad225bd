"""What every job shares: argument parsing with clear errors, session settings, running queries."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.config import ConfigError
from streaming_jobs.io.streams import Trigger
from streaming_jobs.ops_metrics import MetricsPublisher
from streaming_jobs.runtime import DATABRICKS_ROCKSDB, SPARK_SEMANTICS, STATE_STORE_PROVIDER

log = logging.getLogger("streaming_jobs")

ROCKSDB = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
HDFS = "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider"

# Session settings the jobs depend on. They are SQL confs, set before a query starts; the state store
# provider is then recorded in the checkpoint and cannot change for that query. The semantics settings
# (ANSI mode, time parser, ...: streaming_jobs/runtime.py) are also the job clusters' spark_conf, so they
# hold for every session on the cluster; the jobs set them again in case one runs elsewhere.
JOB_CONF: dict[str, str] = {
    **SPARK_SEMANTICS,
    STATE_STORE_PROVIDER: ROCKSDB,
    # Commit the state changelog per batch instead of a full snapshot: short, steady batch times.
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
}


class JobArgumentParser(argparse.ArgumentParser):
    """argparse that raises ConfigError (naming the parameter) instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{self.prog}: {message}")


def add_trigger_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--trigger-interval",
        default=None,
        help="micro-batch interval, e.g. '5 seconds' (default: back to back, the lowest latency)",
    )


def trigger_from(args: argparse.Namespace) -> Trigger:
    if args.trigger_interval:
        from streaming_jobs.config import parse_interval

        return Trigger(processing_time=parse_interval(args.trigger_interval, "--trigger-interval").text)
    return Trigger()


def configure(spark: SparkSession, overrides: dict[str, str] | None = None) -> SparkSession:
    """Set JOB_CONF (and `overrides`) on the session. A cluster that names Databricks' RocksDB provider (the
    stateful stages' job clusters: runtime.STATEFUL_CLUSTER_CONF) keeps it: the session would otherwise
    replace it with Apache Spark's class, and the provider a new checkpoint records would not be the one the
    stack deployed."""
    settings = {**JOB_CONF, **(overrides or {})}
    if (
        STATE_STORE_PROVIDER not in (overrides or {})
        and spark.conf.get(STATE_STORE_PROVIDER, None) == DATABRICKS_ROCKSDB
    ):
        del settings[STATE_STORE_PROVIDER]
    for key, value in settings.items():
        spark.conf.set(key, value)
    return spark


# How often the jobs publish their batches' metrics (ops_metrics.MetricsPublisher): the queries are polled,
# not watched by a StreamingQueryListener. A Python listener receives every progress converted field by field
# over py4j on the driver, and Databricks warns that listener processing latency can hold up the queries
# (https://learn.microsoft.com/azure/databricks/structured-streaming/stream-monitoring); one recentProgress
# call per query every few seconds costs one JSON document per batch.
PUBLISH_SECONDS = 15.0


def metrics_publisher(
    spark: SparkSession,
    catalog: str,
    schema: str | None,
    stage: str,
    commits: Mapping[str, dict[int, float]] | None = None,
) -> MetricsPublisher | None:
    """The job's publisher into `catalog`.`schema`.pipeline_metrics (created if missing); None without a
    --metrics-schema."""
    if schema is None:
        return None
    from streaming_jobs.io.delta import DeltaMetricsSink, ensure_metrics_table
    from streaming_jobs.manifest import JOBS

    sink = DeltaMetricsSink(spark, ensure_metrics_table(spark, catalog, schema))
    return MetricsPublisher(sink, {q: stage for q in JOBS[stage].queries}, dict(commits or {}))


def progress_documents(queries: Sequence[StreamingQuery]) -> list[dict[str, Any]]:
    """The recent progress of each query as parsed JSON (StreamingQueryProgress.json), oldest first."""
    return [json.loads(p.json) for q in queries for p in q.recentProgress]


def publish(publisher: MetricsPublisher | None, queries: Sequence[StreamingQuery]) -> None:
    """Publish the batches the queries ran since the last call. A failed metrics write is logged, never
    raised: the metrics watch the pipeline and must not stop it (the freshness alert still reads gold)."""
    if publisher is None:
        return
    try:
        publisher.publish(progress_documents(queries))
    except Exception:  # any failure of the metrics write
        log.exception("publishing the pipeline metrics failed; the queries keep running")


def run_until_terminated(
    spark: SparkSession,
    queries: Sequence[StreamingQuery],
    publisher: MetricsPublisher | None = None,
    publish_seconds: float = PUBLISH_SECONDS,
) -> None:
    """Block while the queries run, publishing their batches' metrics every `publish_seconds`; if one
    fails, stop the others and re-raise so the job run fails (and Databricks retries it from the
    checkpoints)."""
    try:
        while True:
            for q in queries:
                exc = q.exception()
                if exc is not None:
                    raise RuntimeError(f"query {q.name} failed: {exc}") from None
            if all(not q.isActive for q in queries):
                return
            spark.streams.awaitAnyTermination(timeout=int(publish_seconds) if publisher else 30)
            spark.streams.resetTerminated()
            publish(publisher, queries)
            time.sleep(0.1)
    finally:
        for q in queries:
            if q.isActive:
                q.stop()
        publish(publisher, queries)


def run(argv: Sequence[str]) -> int:
    """`run_job.py <job> --param ...`: the manifest's job `<job>` (its module's main) on the rest."""
    from streaming_jobs.manifest import ALL_JOBS

    if not argv or argv[0] not in ALL_JOBS:
        given = repr(argv[0]) if argv else "nothing"
        jobs = ", ".join(sorted(ALL_JOBS))
        print(f"error: the first parameter names the job, one of {jobs}; got {given}", file=sys.stderr)
        return 2
    return entry(importlib.import_module(ALL_JOBS[argv[0]].module).main, argv[1:])


def entry(main: Any, argv: Sequence[str] | None = None) -> int:
    """Run a job's main with logging; bad parameters exit 2 with one line that names the problem."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        main(list(sys.argv[1:] if argv is None else argv))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
