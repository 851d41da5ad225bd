"""Where silver's time goes: the silver query cut after each step, timed on the same bronze backlog.

    .venv/bin/python benchmarks/bench_silver_stages.py                 # 2 M events, 3 runs per cut
    .venv/bin/python benchmarks/bench_silver_stages.py --events 500000 --runs 5

bench_streaming.py says how fast silver is; this says why. Each cut is the real
silver plan up to one step, run as a stream over the whole bronze table (fresh
checkpoint, the same micro-batch size as bench_streaming's throughput runs)
into Spark's no-op sink, which materialises every column; the last cut is the
silver job itself (foreachBatch, both tables). A step's cost is its cut's
median minus the previous cut's. Cuts run interleaved, after one uncounted
warm-up round, so a drifting JIT or machine affects them alike.

Per cut it also reports the JVM's CPU seconds over wall seconds (2.0 = both
cores busy: running streams concurrently cannot add throughput) and the
collector's pause seconds. For the silver job it splits the wall time into the
two appends (each timed around its table write, its JVM cores beside it) and
the rest (the stream up to foreachBatch, and the batch's materialisation).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_streaming import bronze_backlog, release_state  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from streaming_jobs.io.files import BatchDirTable, ParquetSource  # noqa: E402
from streaming_jobs.jobs.silver import SilverBatchWriter, silver_records  # noqa: E402
from streaming_jobs.local_pipeline import LOCAL_JVM_OPTIONS, LocalPaths, PipelineSettings, local_session  # noqa: E402
from streaming_jobs.schemas import BRONZE_SCHEMA, QUARANTINE_SCHEMA, SILVER_SCHEMA  # noqa: E402
from streaming_jobs.transforms.parse import parse_events  # noqa: E402
from streaming_jobs.transforms.validate import classify_events  # noqa: E402

Cut = Callable[[DataFrame, PipelineSettings], DataFrame]

# In plan order; each cut contains the previous one.
CUTS: dict[str, Cut] = {
    "read bronze": lambda bronze, st: bronze,
    "+ parse JSON": lambda bronze, st: parse_events(bronze).select("evt"),
    "+ type, validate": lambda bronze, st: classify_events(parse_events(bronze), st.rules),
    "+ de-duplicate": lambda bronze, st: silver_records(bronze, st.rules),
}
SILVER_JOB = "+ materialise, write both tables"


class JvmMeter:
    """CPU and collector seconds of the local JVM (driver and executors are one process here)."""

    def __init__(self, spark: SparkSession) -> None:
        self._stat = Path(f"/proc/{spark.sparkContext._gateway.proc.pid}/stat")  # type: ignore[union-attr]
        self._gcs = list(spark.sparkContext._jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans())  # type: ignore[union-attr]
        self._tick = os.sysconf("SC_CLK_TCK")

    def read(self) -> tuple[float, float]:
        fields = self._stat.read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / self._tick
        return cpu, sum(gc.getCollectionTime() for gc in self._gcs) / 1000.0


@dataclass
class TimedTable:
    """A BatchDirTable whose appends add their wall and JVM CPU seconds to `wall` and `cpu`."""

    table: BatchDirTable
    meter: JvmMeter
    wall: float = 0.0
    cpu: float = 0.0

    def append(self, rows: DataFrame, batch_id: int, writer_id: str) -> bool:
        cpu0, _ = self.meter.read()
        t0 = time.perf_counter()
        try:
            return self.table.append(rows, batch_id, writer_id)
        finally:
            self.wall += time.perf_counter() - t0
            self.cpu += self.meter.read()[0] - cpu0


Appends = tuple[TimedTable, TimedTable]  # the silver job's (trades, quarantine), timed, for one run


def run_cut(
    spark: SparkSession, name: str, paths: LocalPaths, st: PipelineSettings, out: Path, meter: JvmMeter
) -> tuple[float, Appends | None]:
    """The cut's wall seconds, and for the silver job its two appends, timed."""
    appends: Appends | None = None
    shutil.rmtree(out, ignore_errors=True)
    bronze = ParquetSource(str(paths.bronze), BRONZE_SCHEMA, st.max_bronze_files_per_trigger).read(spark)
    if name == SILVER_JOB:
        appends = (
            TimedTable(BatchDirTable(str(out / "trades"), SILVER_SCHEMA), meter),
            TimedTable(BatchDirTable(str(out / "quarantine"), QUARANTINE_SCHEMA), meter),
        )
        writer = SilverBatchWriter(*appends, st.rules)
        stream = silver_records(bronze, st.rules).writeStream.foreachBatch(writer)
    else:
        stream = CUTS[name](bronze, st).writeStream.format("noop")
    t0 = time.perf_counter()
    q = stream.option("checkpointLocation", str(out / "checkpoint")).trigger(availableNow=True).start()
    q.awaitTermination()
    if q.exception() is not None:
        raise RuntimeError(f"{name}: {q.exception()}")
    return time.perf_counter() - t0, appends


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--events-per-file", type=int, default=50_000)
    p.add_argument("--files-per-batch", type=int, default=8)
    p.add_argument("--runs", type=int, default=3, help="measured rounds (every cut once per round)")
    p.add_argument("--java-options", default=LOCAL_JVM_OPTIONS)
    p.add_argument("--workdir", default="out/bench-silver-stages")
    args = p.parse_args(argv)

    spark = local_session("rta-bench-silver", state_store="hdfs", driver_memory="6g", java_options=args.java_options)
    paths, st = bronze_backlog(spark, args.workdir, args.events, args.events_per_file, args.files_per_batch)
    meter = JvmMeter(spark)
    names = [*CUTS, SILVER_JOB]
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    gc: dict[str, list[float]] = {n: [] for n in names}
    split: list[dict[str, tuple[float, float]]] = []
    for round_ in range(args.runs + 1):
        for name in names:
            release_state(spark)
            cpu0, gc0 = meter.read()
            seconds, appends = run_cut(spark, name, paths, st, paths.root / "cut", meter)
            cpu1, gc1 = meter.read()
            print(f"[round {round_}{' warm-up' if round_ == 0 else ''}] {name:<28} {seconds:6.2f} s", flush=True)
            if round_:
                wall[name].append(seconds)
                cpu[name].append((cpu1 - cpu0) / seconds)
                gc[name].append(gc1 - gc0)
                if appends is not None:
                    split.append(phase_split(appends, seconds, cpu1 - cpu0))
    print(f"\n{args.events:,} events, medians of {args.runs} runs")
    print(f"{'cut':<28} {'seconds':>8} {'step':>7} {'share':>6} {'events/s':>10} {'cores':>6} {'gc s':>6}")
    previous = 0.0
    total = statistics.median(wall[SILVER_JOB])
    for name in names:
        median = statistics.median(wall[name])
        step = median - previous
        previous = median
        print(
            f"{name:<28} {median:8.2f} {step:7.2f} {step / total:6.0%} {args.events / median:10,.0f}"
            f" {statistics.median(cpu[name]):6.2f} {statistics.median(gc[name]):6.2f}"
        )
    print(f"\n{SILVER_JOB.removeprefix('+ ')}: where its wall time goes (medians of {args.runs} runs)")
    print(f"{'phase':<28} {'seconds':>8} {'share':>6} {'cores':>6}")
    for phase in split[0]:
        seconds = statistics.median(s[phase][0] for s in split)
        print(f"{phase:<28} {seconds:8.2f} {seconds / total:6.0%} {statistics.median(s[phase][1] for s in split):6.2f}")
    spark.stop()
    return 0


def phase_split(appends: Appends, seconds: float, cpu: float) -> dict[str, tuple[float, float]]:
    """{phase: (wall seconds, JVM cores)}: the rest of the run (stream and materialisation), and each append."""
    rest_wall = seconds - sum(a.wall for a in appends)
    rest_cpu = cpu - sum(a.cpu for a in appends)
    trades, quarantine = appends
    return {
        "stream, materialise": (rest_wall, rest_cpu / rest_wall),
        "trades append": (trades.wall, trades.cpu / trades.wall),
        "quarantine append": (quarantine.wall, quarantine.cpu / quarantine.wall),
    }


if __name__ == "__main__":
    raise SystemExit(main())
