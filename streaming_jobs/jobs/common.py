"""What every job shares: argument parsing with clear errors, session settings, running queries."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.config import ConfigError
from streaming_jobs.io.streams import Trigger
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


def run_until_terminated(spark: SparkSession, queries: Sequence[StreamingQuery]) -> None:
    """Block while the queries run; if one fails, stop the others and re-raise so the job run fails
    (and Databricks retries it from the checkpoints)."""
    try:
        while True:
            for q in queries:
                exc = q.exception()
                if exc is not None:
                    raise RuntimeError(f"query {q.name} failed: {exc}") from None
            if all(not q.isActive for q in queries):
                return
            spark.streams.awaitAnyTermination(timeout=30)
            spark.streams.resetTerminated()
            time.sleep(0.1)
    finally:
        for q in queries:
            if q.isActive:
                q.stop()


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
