"""One local Spark session for every streaming test, and one generated data set with its ground truth."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streaming_jobs.config import AlertRule, Interval, ValidationRules, parse_alert_rules, parse_interval
from streaming_jobs.generator.events import (
    KIND_LATE_OK,
    KIND_VALID,
    GeneratedEvent,
    GeneratorConfig,
    MarketSimulator,
    Trade,
)
from streaming_jobs.generator.sinks import LandingDirSink
from tests.streaming.reference import Gold, gold_reference

WATERMARK = "10 minutes"  # generous: on-time events stay on time however slow this machine is
WINDOW = "10 seconds"
ALERT_RULES = """[
  {"name": "price_range", "metric": "price_range_pct", "operator": ">=", "threshold": 1.0},
  {"name": "price_drop", "metric": "price_change_pct", "operator": "<=", "threshold": -1.0},
  {"name": "volume_surge", "metric": "volume", "operator": ">=", "threshold": 3000, "symbols": ["GOOGL", "TSLA"]}
]"""


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """local[2], two shuffle partitions, no UI; RocksDB state store as on Databricks.

    The tests' JVM compiles with C1 only (-XX:TieredStopAtLevel=1): two short-lived JVMs on two cores
    spent much of their CPU in C2 compiling code the tests run a few times (the streaming tests took
    100 s instead of 138 s with it, `pytest -n auto tests/streaming`). The jobs and the benchmarks keep
    the JVM's default tiered compilation."""
    from streaming_jobs.local_pipeline import LOCAL_JVM_OPTIONS, local_session

    session = local_session(
        "rta-streaming-tests",
        cores=2,
        shuffle_partitions=2,
        driver_memory="2g",
        java_options=LOCAL_JVM_OPTIONS + " -XX:TieredStopAtLevel=1",
    )
    yield session
    session.stop()


@contextmanager
def shuffle_partitions(spark, n: int) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Streams started inside run with n shuffle partitions (a stream keeps its count in its checkpoint);
    the shared session's count is restored on exit."""
    before = str(spark.conf.get("spark.sql.shuffle.partitions"))
    spark.conf.set("spark.sql.shuffle.partitions", str(n))
    try:
        yield
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)


@dataclass
class Dataset:
    items: list[GeneratedEvent]
    files: list[list[GeneratedEvent]]  # how the items are split into landing files
    rules: ValidationRules
    window: Interval
    alert_rules: tuple[AlertRule, ...]

    @property
    def trades(self) -> list[Trade]:
        """The trades silver must hold: each valid or late-but-within-watermark event once."""
        return [e.trade for e in self.items if e.kind in (KIND_VALID, KIND_LATE_OK) and e.trade is not None]

    @property
    def reference(self) -> Gold:
        return gold_reference(self.trades, int(self.window.seconds), self.alert_rules)

    def write_landing(self, landing: Path) -> None:
        sink = LandingDirSink(landing)
        for chunk in self.files:
            sink.send(chunk)


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    now = datetime.now(UTC)
    sim = MarketSimulator(
        GeneratorConfig(
            seed=21,
            duplicate_rate=0.05,
            malformed_rate=0.04,
            late_rate=0.02,
            late_ok_rate=0.03,
            late_by=timedelta(hours=1),  # beyond the 10-minute watermark
            late_ok_by=timedelta(minutes=3),  # within it
            jump_probability=0.01,
        )
    )
    items = sim.every_malformed_kind(now) + sim.events(3000, now - timedelta(seconds=60), 50.0)
    files = [items[i : i + 250] for i in range(0, len(items), 250)]
    rules = ValidationRules(symbols=tuple(sim.config.symbols), watermark=parse_interval(WATERMARK, "--watermark"))
    return Dataset(items, files, rules, parse_interval(WINDOW, "--window"), parse_alert_rules(ALERT_RULES))


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)
