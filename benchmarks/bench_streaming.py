"""Streaming benchmark on local Spark: sustained throughput through silver and gold, end-to-end latency.

    .venv/bin/python benchmarks/bench_streaming.py                      # both, 3 runs each, medians
    .venv/bin/python benchmarks/bench_streaming.py --mode throughput --events 2000000 --runs 5
    .venv/bin/python benchmarks/bench_streaming.py --mode latency --rate 10000 --seconds 60
    .venv/bin/python benchmarks/bench_streaming.py --mode throughput --conf spark.shuffle.checksum.enabled=false

Throughput: the generator's events (with its duplicates, late and malformed
records) are ingested to bronze once; then, per run, silver (trades +
quarantine from one query, as deployed) and gold each process the whole bronze /
silver table from fresh checkpoints in large micro-batches. Two warm-up runs on
the same data come first and are not counted: the JIT compiler is still at work
through them (after a single 200,000-event warm-up run, three measured runs rose
steadily, 88k -> 99k -> 111k events/s), and a streaming job runs in a
long-lived JVM, so the runs measure the steady state. Reported: events/s
through silver, through gold, and through both
(events / (silver time + gold time): the rate one machine sustains running both).

Latency: the full pipeline (landing -> bronze -> silver -> gold in SQLite) runs
as concurrent back-to-back streams while the generator (its own process) writes
at a steady rate; the latency of an event is the moment the gold transaction
that includes it committed minus its event time (a hash sample of events, see
streaming_jobs/metrics.py). The first seconds of each run (start-up) are not
measured, and one whole run comes first, not counted: in a cold JVM silver's
first micro-batches took 10-25 s each however few rows they held (code
generation, the JIT), which a 30 s warm-up did not absorb, so the first
measured run of a set was always the worst (p99 37-40 s against 10-16 s for the
next two on a slow machine). The tracker is polled through the warm-up as well
and then reset: progress is read back from each query's recent batches (up to
100), so warm-up batches left unread until the warm-up ended were counted in
the measured interval (one run's p99 read 46 s where its own batches gave 17 s).
A run whose producer fell short of the rate says so. The
producer sends duplicates, malformed and beyond-watermark records as usual but
no events late on purpose within the watermark (--late-ok-rate, default 0
here): their event-time latency would be their lateness (2-10 s), not the
pipeline's.

Targets on a 2-core machine: >= 150,000 events/s sustained; p99 < 5 s at 10,000 events/s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streaming_jobs.config import ValidationRules, parse_alert_rules, parse_interval  # noqa: E402
from streaming_jobs.generator.events import GeneratorConfig, MarketSimulator  # noqa: E402
from streaming_jobs.generator.sinks import LandingDirSink  # noqa: E402
from streaming_jobs.io.streams import Trigger  # noqa: E402
from streaming_jobs.local_pipeline import (  # noqa: E402
    LOCAL_JVM_OPTIONS,
    LocalPaths,
    PipelineSettings,
    jvm_options,
    local_session,
    start_local_pipeline,
    start_stage,
)
from streaming_jobs.metrics import LatencyTracker, percentile  # noqa: E402

RULES_JSON = (
    '[{"name": "price_move", "metric": "price_change_pct", "operator": ">=", "threshold": 2.0},'
    ' {"name": "volume_surge", "metric": "volume", "operator": ">=", "threshold": 150000}]'
)


def settings(watermark: str, window: str, **kw: Any) -> PipelineSettings:
    sim = MarketSimulator()
    rules = ValidationRules(symbols=tuple(sim.config.symbols), watermark=parse_interval(watermark, "--watermark"))
    return PipelineSettings(
        rules=rules, window=parse_interval(window, "--window"), alert_rules=parse_alert_rules(RULES_JSON), **kw
    )


# ----------------------------------------------------------------------------- throughput


def write_landing(landing: Path, events: int, per_file: int, seed: int) -> dict[str, int]:
    """The generator's stream over the last few minutes (so nothing is late by accident)."""
    sim = MarketSimulator(GeneratorConfig(seed=seed, late_by=timedelta(hours=2)))
    sink = LandingDirSink(landing)
    start = datetime.now(UTC) - timedelta(seconds=120)
    rate = events / 110.0
    kinds: dict[str, int] = {}
    made = 0
    while made < events:
        n = min(per_file, events - made)
        batch = [sim.next_event(start + timedelta(seconds=(made + i) / rate)) for i in range(n)]
        for e in batch:
            kinds[e.kind.split(":")[0]] = kinds.get(e.kind.split(":")[0], 0) + 1
        sink.send(batch)
        made += n
    return kinds


def bronze_backlog(
    spark: Any, workdir: str, events: int, per_file: int, files_per_batch: int
) -> tuple[LocalPaths, PipelineSettings]:
    """A fresh bronze table of the generator's events, and the throughput runs' settings (micro-batch
    size included) for the silver benchmarks that read it."""
    paths = LocalPaths(Path(workdir))
    shutil.rmtree(paths.root, ignore_errors=True)
    paths.create()
    write_landing(paths.landing, events, per_file, seed=11)
    st = settings(
        "10 minutes",
        "1 minute",
        max_files_per_trigger=files_per_batch,
        max_bronze_files_per_trigger=files_per_batch,
    )
    run_stage(spark, "bronze", paths, st)
    return paths, st


def run_stage(spark, stage: str, paths: LocalPaths, st: PipelineSettings) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    queries, pipeline = start_stage(stage, spark, paths, st, trigger=Trigger(available_now=True))
    rows = 0
    for q in queries.values():
        q.awaitTermination()
        if q.exception() is not None:
            raise RuntimeError(f"{q.name} failed: {q.exception()}")
        rows = max(rows, sum(p.numInputRows for p in q.recentProgress))
    elapsed = time.perf_counter() - t0
    if pipeline is not None:
        pipeline.gold_sink.close()
    return elapsed, rows


def release_state(spark) -> None:  # type: ignore[no-untyped-def]
    """Unload the finished run's state stores (each run has fresh checkpoints, so nothing is lost) and
    collect garbage, so a run does not pay for the previous run's multi-GB state maps."""
    jvm = spark.sparkContext._jvm
    jvm.org.apache.spark.sql.execution.streaming.state.StateStore.stop()
    jvm.java.lang.System.gc()


def reset_downstream(paths: LocalPaths) -> None:
    for p in (paths.silver, paths.quarantine):
        shutil.rmtree(p, ignore_errors=True)
    for p in paths.checkpoints.glob("silver_*"):
        shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(paths.checkpoints / "gold_metrics", ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(paths.gold_db) + suffix).unlink(missing_ok=True)
    paths.create()


def throughput(args: argparse.Namespace, spark) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    paths = LocalPaths(Path(args.workdir) / "throughput")
    shutil.rmtree(paths.root, ignore_errors=True)
    paths.create()
    results: dict[str, list[float]] = {"bronze": [], "silver": [], "gold": [], "silver+gold": []}
    t = time.perf_counter()
    kinds = write_landing(paths.landing, args.events, args.events_per_file, seed=11)
    print(f"generated {args.events:,} events in {time.perf_counter() - t:.1f} s: {kinds}", flush=True)
    st = settings(
        "10 minutes",
        "1 minute",
        max_files_per_trigger=args.files_per_batch,
        max_bronze_files_per_trigger=args.files_per_batch,
        max_silver_files_per_trigger=args.files_per_batch * 2,
    )
    bronze_s, _ = run_stage(spark, "bronze", paths, st)
    print(f"bronze ingested in {bronze_s:.1f} s = {args.events / bronze_s:,.0f} events/s (one cold run)", flush=True)
    results["bronze"].append(args.events / bronze_s)
    total = args.warmup_runs + args.runs
    for i in range(total):
        label = "warm-up" if i < args.warmup_runs else "measure"
        release_state(spark)
        reset_downstream(paths)
        silver_s, silver_rows = run_stage(spark, "silver", paths, st)
        gold_s, gold_rows = run_stage(spark, "gold", paths, st)
        line = (
            f"[{label} {i + 1}/{total}] silver {silver_rows:,} events in {silver_s:.2f} s "
            f"= {silver_rows / silver_s:,.0f}/s; gold {gold_rows:,} trades in {gold_s:.2f} s "
            f"= {gold_rows / gold_s:,.0f}/s; silver+gold {silver_rows / (silver_s + gold_s):,.0f} events/s"
        )
        print(line, flush=True)
        if label == "measure":
            results["silver"].append(silver_rows / silver_s)
            results["gold"].append(gold_rows / gold_s)
            results["silver+gold"].append(silver_rows / (silver_s + gold_s))
    return results


# ----------------------------------------------------------------------------- latency


def latency(args: argparse.Namespace, spark) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    results: dict[str, list[float]] = {"p50": [], "p99": [], "max": [], "achieved_rate": []}
    total = args.latency_warmup_runs + args.runs
    for i in range(total):
        label = f"latency warm-up {i + 1}/{total}" if i < args.latency_warmup_runs else f"latency {i + 1}/{total}"
        release_state(spark)
        paths = LocalPaths(Path(args.workdir) / f"latency-{i}")
        shutil.rmtree(paths.root, ignore_errors=True)
        tracker = LatencyTracker(keep_all=True)
        st = settings(
            args.watermark,
            args.window,
            observe_latency=True,
            latency_sample_every=max(1, int(args.rate // 500)),
            trigger=Trigger(processing_time=args.trigger_interval) if args.trigger_interval else Trigger(),
            clean_landing=True,
        )
        pipeline = start_local_pipeline(spark, paths, st, tracker=tracker)
        # The producer is its own process, as producers are: in this process its Python would compete
        # for the GIL with the foreachBatch callbacks of silver and gold.
        generator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streaming_jobs.generator",
                "--landing",
                str(paths.landing),
                "--rate",
                str(args.rate),
                "--seconds",
                str(args.warmup_seconds + args.seconds),
                "--burst-probability",
                "0",  # steady input rate
                # No events the producer sends late on purpose: their event-time latency is their lateness
                # (2 to 10 s by default), not the pipeline's. Late-beyond-watermark ones never reach gold.
                "--late-ok-rate",
                str(args.late_ok_rate),
                "--seed",
                str(100 + i),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        t0 = time.time()
        # Poll through the warm-up too: progress is read back from the queries' recent batches (up to 100),
        # so batches of the warm-up left unread would be counted in the measured interval.
        while time.time() - t0 < args.warmup_seconds and generator.poll() is None:
            time.sleep(0.25)
            tracker.poll(*pipeline.queries.values())
        tracker.reset()
        measured_from = time.time()
        while generator.poll() is None:
            time.sleep(0.25)
            tracker.poll(*pipeline.queries.values())
            failed = pipeline.failed()
            if failed:
                generator.terminate()
                raise RuntimeError(failed)
        generated_for = time.time() - t0
        out = generator.stdout.read() if generator.stdout else ""
        sent = int(out.split()[1]) if out.startswith("sent ") else 0
        # Let the last events through, then stop.
        deadline = time.time() + 30
        while time.time() < deadline and any(
            q.status["isDataAvailable"] or q.status["isTriggerActive"] for q in pipeline.queries.values()
        ):
            time.sleep(0.25)
            tracker.poll(*pipeline.queries.values())
        time.sleep(2)
        tracker.poll(*pipeline.queries.values())
        pipeline.stop()
        lats = list(tracker.all_latencies)
        if not lats:
            raise RuntimeError("no latency samples: the pipeline produced no gold batches")
        p50, p99 = percentile(lats, 50), percentile(lats, 99)
        achieved = sent / generated_for  # what the producer actually sent
        print(
            f"[{label}] {args.rate:,.0f} events/s for {args.seconds:.0f} s "
            f"(measured from {measured_from - t0:.0f} s): {len(lats):,} sampled events, "
            f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {max(lats):.2f} s; the producer sent {achieved:,.0f}/s",
            flush=True,
        )
        if achieved < 0.95 * args.rate:
            print(f"  the producer fell short of {args.rate:,.0f}/s: this run measured a lower rate", flush=True)
        if i < args.latency_warmup_runs:
            continue
        results["p50"].append(p50)
        results["p99"].append(p99)
        results["max"].append(max(lats))
        results["achieved_rate"].append(achieved)
    return results


def _setting(item: str, parser: argparse.ArgumentParser) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        parser.error(f"--conf {item!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


def model_lines(measured: dict[str, float], cores: int) -> list[str]:
    """The capacity model's prediction for this machine beside the measured figure, as measured / predicted.

    The model's per-core figures (stack_config/capacity_model.py, benchmarks/streaming_per_core.json) times
    this machine's cores; silver+gold runs the two stages one after the other on the same cores, so its
    prediction is the harmonic combination of the two."""
    from stack_config.capacity_model import benchmark_figure

    figure = benchmark_figure()
    predicted = {stage: figure.rate(stage) * cores for stage in ("bronze", "silver", "gold")}
    predicted["silver+gold"] = 1 / (1 / predicted["silver"] + 1 / predicted["gold"])
    lines = [f"capacity model ({figure.measured}: {figure.command}) on {cores} cores, measured / predicted:"]
    for stage, value in measured.items():
        lines.append(
            f"  {stage:<12} predicted {predicted[stage]:>10,.0f}  measured {value:>10,.0f} events/s"
            f"  ratio {value / predicted[stage]:.2f}"
        )
    return lines


def record(path: Path, medians: dict[str, float], cores: int, command: str, machine: str) -> None:
    """Write the per-stage medians as the model's figure (the one place it lives)."""
    data = {
        "cores": cores,
        "events_per_second": {s: round(medians[s]) for s in ("bronze", "silver", "gold")},
        "command": command,
        "measured": datetime.now(UTC).date().isoformat(),
        "machine": machine,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def measures(runs: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """{measure: {"runs": [...], "median": x}}: how the --json report holds each measure."""
    return {k: {"runs": v, "median": statistics.median(v)} for k, v in runs.items()}


def latency_section(rate: float, runs: dict[str, list[float]]) -> dict[str, Any]:
    """The report's "latency": the input rate asked for, and its measures (seconds per run; achieved_rate)."""
    return {"rate": rate, **measures(runs)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=("both", "throughput", "latency"), default="both")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--events", type=int, default=2_000_000, help="throughput: events in the bronze table")
    p.add_argument("--warmup-runs", type=int, default=2, help="throughput: runs before the measured ones, not counted")
    p.add_argument("--events-per-file", type=int, default=50_000)
    p.add_argument("--files-per-batch", type=int, default=8, help="throughput: landing/bronze files per batch")
    p.add_argument("--rate", type=float, default=10_000.0, help="latency: steady input events/s")
    p.add_argument("--seconds", type=float, default=60.0, help="latency: measured seconds per run")
    p.add_argument("--warmup-seconds", type=float, default=30.0, help="latency: unmeasured start of each run")
    p.add_argument(
        "--latency-warmup-runs", type=int, default=1, help="latency: whole runs before the measured ones, not counted"
    )
    p.add_argument("--trigger-interval", help="latency: micro-batch interval of every stream (default: back to back)")
    p.add_argument(
        "--late-ok-rate", type=float, default=0.0, help="latency: share of events sent late within the watermark"
    )
    p.add_argument("--window", default="10 seconds")
    p.add_argument("--watermark", default="30 seconds")
    p.add_argument("--state-store", choices=("rocksdb", "hdfs"), default="hdfs")
    p.add_argument(
        "--java-options",
        default=LOCAL_JVM_OPTIONS,
        help="the JVM's options (default: the local session's; -Xms is the driver memory unless set)",
    )
    p.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="an extra Spark setting (repeatable)"
    )
    p.add_argument("--workdir", default="out/bench")
    p.add_argument("--json", help="also write the results here")
    p.add_argument(
        "--record",
        metavar="MACHINE",
        help="throughput: write the medians to benchmarks/streaming_per_core.json, the capacity model's figure, "
        "describing the machine as MACHINE",
    )
    args = p.parse_args(argv)
    conf = dict(_setting(item, p) for item in args.conf)

    driver_memory = "6g"
    spark = local_session(
        "rta-bench",
        state_store=args.state_store,
        driver_memory=driver_memory,
        java_options=args.java_options,
        conf=conf,
    )
    java_options = jvm_options(args.java_options, driver_memory)
    report: dict[str, Any] = {"state_store": args.state_store, "cores": 2, "java_options": java_options}
    if conf:
        report["conf"] = conf
    if args.mode in ("both", "throughput"):
        report["throughput"] = measures(throughput(args, spark))
    if args.mode in ("both", "latency"):
        report["latency"] = latency_section(args.rate, latency(args, spark))
    print("\n=== medians ===")
    if "throughput" in report:
        for k, v in report["throughput"].items():
            print(f"throughput {k:<12} {v['median']:>12,.0f} events/s   runs: {[round(x) for x in v['runs']]}")
        medians = {k: v["median"] for k, v in report["throughput"].items()}
        print("\n".join(model_lines(medians, report["cores"])))
        if args.record:
            from stack_config.capacity_model import BENCHMARK_FIGURE

            command = "benchmarks/bench_streaming.py " + " ".join(argv if argv is not None else sys.argv[1:])
            record(BENCHMARK_FIGURE, medians, report["cores"], command, args.record)
            print(f"recorded in {BENCHMARK_FIGURE.relative_to(ROOT)}")
    if "latency" in report:
        lat_report = report["latency"]
        for k in ("p50", "p99", "max"):
            v = lat_report[k]
            print(
                f"latency {k:<4} at {args.rate:,.0f}/s  {v['median']:6.2f} s   runs: {[round(x, 2) for x in v['runs']]}"
            )
        sent = lat_report["achieved_rate"]
        print(f"input rate the producer achieved   {sent['median']:8,.0f}/s   runs: {[round(x) for x in sent['runs']]}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
