"""Run the whole pipeline on local Spark with a live terminal view.

    .venv/bin/python -m streaming_jobs.local_run --seconds 30
    .venv/bin/python -m streaming_jobs.local_run --max-events 100000 --rate 5000

The generator writes to a landing directory at a controlled rate (with bursts,
price jumps, duplicates, late and malformed records); bronze, silver and gold
run as concurrent streams with the production transformations; the view shows
gold metrics and alerts from the serving database (SQLite here) with
throughput and end-to-end latency. It stops by itself once the time or event
budget is spent and the streams have drained, or cleanly on Ctrl-C.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streaming_jobs.config import ConfigError, ValidationRules, parse_alert_rules, parse_interval, parse_symbols
from streaming_jobs.generator.events import DEFAULT_SYMBOLS, GeneratorConfig, MarketSimulator
from streaming_jobs.generator.sinks import LandingDirSink, RateController, RunStats, run_generator

DEFAULT_RULES = (
    '[{"name": "price_move", "metric": "price_change_pct", "operator": ">=", "threshold": 2.0},'
    ' {"name": "price_drop", "metric": "price_change_pct", "operator": "<=", "threshold": -2.0},'
    ' {"name": "volume_surge", "metric": "volume", "operator": ">=", "threshold": 150000}]'
)
SPARK = "▁▂▃▄▅▆▇█"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m streaming_jobs.local_run", description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, help="generate for this long (default 30 unless --max-events)")
    p.add_argument("--max-events", type=int, help="generate this many events")
    p.add_argument("--rate", type=float, default=2000.0, help="events per second before bursts")
    p.add_argument("--workdir", default="out/local-run", help="landing, tables, checkpoints and gold.db go here")
    p.add_argument("--keep", action="store_true", help="resume from an existing workdir instead of a fresh one")
    p.add_argument("--symbols", default=",".join(DEFAULT_SYMBOLS))
    p.add_argument("--window", default="10 seconds")
    p.add_argument("--watermark", default="30 seconds")
    p.add_argument("--alert-rules", default=DEFAULT_RULES, help="JSON list, or @file")
    p.add_argument(
        "--state-store", choices=("rocksdb", "hdfs"), default="hdfs", help="Databricks uses rocksdb (jobs/common.py)"
    )
    p.add_argument("--drain-seconds", type=float, default=60.0, help="max wait for the streams to catch up")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-view", action="store_true", help="print one status line per second instead")
    return p


@dataclass
class Settings:
    args: argparse.Namespace
    rules: ValidationRules
    window: Any
    alert_rules: Any


def parse(argv: Sequence[str]) -> Settings:
    args = build_parser().parse_args(argv)
    if args.seconds is None and args.max_events is None:
        args.seconds = 30.0
    if args.rate <= 0:
        raise ConfigError("--rate: must be positive")
    if args.max_events is not None and args.max_events <= 0:
        raise ConfigError("--max-events: must be positive")
    rules = ValidationRules(
        symbols=parse_symbols(args.symbols), watermark=parse_interval(args.watermark, "--watermark")
    )
    unknown = set(rules.symbols) - set(DEFAULT_SYMBOLS)
    if unknown:
        raise ConfigError(f"--symbols: the generator has no price model for {', '.join(sorted(unknown))}")
    return Settings(args, rules, parse_interval(args.window, "--window"), parse_alert_rules(args.alert_rules))


# ----------------------------------------------------------------------------- the view


@dataclass
class ViewState:
    started: float = field(default_factory=time.time)
    generated: int = 0
    gen_done: bool = False
    last_counts: dict[str, float] = field(default_factory=dict)
    quarantine: list[tuple[str, int]] = field(default_factory=list)
    quarantine_at: float = 0.0


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * (len(SPARK) - 1)))] for v in values)


def _fmt(v: float | None, unit: str = "s") -> str:
    return "   -  " if v is None else f"{v:6.2f}{unit}"


def render(state: ViewState, pipeline: Any, tracker: Any, db: Any, spark: Any, paths: Any, gen: RunStats) -> str:
    now = time.time()
    lines = [
        f"rta-platform local pipeline  ·  {now - state.started:6.1f} s  ·  generated {gen.sent:,} events"
        f"{' (done)' if state.gen_done else ''}  ·  Ctrl-C stops cleanly",
        "",
        "stage             in rows/s   done rows/s   last batch ms   rows so far",
    ]
    for name, q in pipeline.queries.items():
        p = q.lastProgress
        total = sum(x.numInputRows for x in q.recentProgress)
        state.last_counts[name] = total
        if p is None:
            lines.append(f"{name:<17} {'starting':>9}")
            continue
        lines.append(
            f"{name:<17} {p.inputRowsPerSecond:>9,.0f}   {p.processedRowsPerSecond:>11,.0f}   "
            f"{p.batchDuration:>13,}   {total:>11,}"
        )
    p50, p99 = tracker.percentiles(50, 99)
    lines.append(f"end-to-end latency (event time -> gold row in SQL): p50 {_fmt(p50)}  p99 {_fmt(p99)}")
    lines.append("")
    latest = db.query("SELECT MAX(window_start) FROM gold.side_window_metrics")[0][0]
    if latest is None:
        lines.append("gold: waiting for the first window ...")
        return "\n".join(lines)
    lines.append(f"gold  ·  window {latest[11:19]} UTC (live)")
    lines.append("symbol   avg price       vwap   chg %   volume  trades   price trend (last 20 windows)")
    for sym, avg, vwap, chg, vol, n in db.query(
        "SELECT symbol, avg_price, vwap, price_change_pct, volume, trade_count FROM gold.symbol_window_metrics "
        "WHERE window_start = ? ORDER BY symbol",
        (latest,),
    ):
        series = [
            float(r[0])
            for r in db.query(
                "SELECT avg_price FROM gold.symbol_window_metrics WHERE symbol = ? ORDER BY window_start DESC LIMIT 20",
                (sym,),
            )
        ][::-1]
        lines.append(
            f"{sym:<6} {float(avg):>11,.2f} {float(vwap):>10,.2f} {chg:>+7.2f} {vol:>8,} {n:>7,}   {sparkline(series)}"
        )
    sides = db.query(
        "SELECT side, trade_count FROM gold.v_transaction_count_by_type WHERE window_start = ? ORDER BY side",
        (latest,),
    )
    lines.append("transactions by type (window): " + "   ".join(f"{s} {n:,}" for s, n in sides))
    share = db.query("SELECT symbol, share_pct FROM gold.v_volume_share ORDER BY share_pct DESC")
    lines.append("share of volume: " + "  ".join(f"{s} {p:.1f}%" for s, p in share))
    cum = db.query(
        "SELECT trading_day, cumulative_quantity FROM gold.v_cumulative_quantity ORDER BY window_start DESC LIMIT 1"
    )
    if cum:
        lines.append(f"cumulative quantity {cum[0][0]}: {cum[0][1]:,}")
    lines.append("")
    alerts = db.query(
        "SELECT rule_name, symbol, window_start, metric, metric_value, threshold FROM gold.v_active_alerts "
        "ORDER BY window_start DESC, rule_name, symbol LIMIT 6"
    )
    total_alerts = db.query("SELECT COUNT(*) FROM gold.v_active_alerts")[0][0]
    lines.append(f"alerts ({total_alerts} active)")
    for rule, sym, ws, metric, value, threshold in alerts:
        lines.append(f"  {ws[11:19]}  {rule:<14} {sym:<6} {metric} = {value:,.2f} (threshold {threshold:,.2f})")
    if now - state.quarantine_at > 5:
        state.quarantine_at = now
        try:
            rows = paths.quarantine_table.read(spark).groupBy("reason").count().collect()
            state.quarantine = sorted(((r["reason"], r["count"]) for r in rows), key=lambda x: -x[1])
        except Exception:  # nothing committed yet
            state.quarantine = []
    if state.quarantine:
        lines.append("")
        lines.append("quarantine: " + ", ".join(f"{r} {n}" for r, n in state.quarantine[:8]))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse(list(sys.argv[1:] if argv is None else argv))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args = settings.args

    from streaming_jobs.local_pipeline import LocalPaths, PipelineSettings, local_session, start_local_pipeline
    from streaming_jobs.metrics import LatencyTracker
    from streaming_jobs.serving.connections import SqliteSession

    root = Path(args.workdir)
    if root.exists() and not args.keep:
        shutil.rmtree(root)
    paths = LocalPaths(root)
    paths.create()
    print(f"starting local Spark (state store {args.state_store}) in {root} ...", flush=True)
    spark = local_session("rta-local-run", state_store=args.state_store)
    tracker = LatencyTracker()
    pipeline = start_local_pipeline(
        spark,
        paths,
        PipelineSettings(
            rules=settings.rules,
            window=settings.window,
            alert_rules=settings.alert_rules,
            observe_latency=True,
            latency_sample_every=max(1, int(args.rate // 200)),
            clean_landing=True,
        ),
        tracker=tracker,
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    state = ViewState()
    gen_stats = RunStats()
    sim = MarketSimulator(
        GeneratorConfig(seed=args.seed, symbols={s: DEFAULT_SYMBOLS[s] for s in settings.rules.symbols})
    )

    def generate() -> None:
        nonlocal gen_stats

        def progress(batch: Sequence[Any]) -> None:
            gen_stats.sent += len(batch)

        final = run_generator(
            sim,
            LandingDirSink(paths.landing),
            RateController(args.rate, seed=args.seed),
            seconds=args.seconds,
            max_events=args.max_events,
            should_stop=stop.is_set,
            on_send=progress,
        )
        gen_stats.by_kind = final.by_kind
        state.gen_done = True

    generator = threading.Thread(target=generate, name="generator", daemon=True)
    generator.start()
    db = SqliteSession(paths.gold_db)
    tty = sys.stdout.isatty() and not args.no_view
    idle_since: float | None = None
    gen_done_at: float | None = None
    error: str | None = None
    try:
        while not stop.is_set():
            time.sleep(1.0)
            error = pipeline.failed()
            if error:
                break
            tracker.poll(*pipeline.queries.values())
            screen = render(state, pipeline, tracker, db, spark, paths, gen_stats)
            if tty:
                sys.stdout.write("\x1b[2J\x1b[H" + screen + "\n")
            else:
                head = screen.splitlines()
                print(" | ".join(x for x in (head[0], *head[3:8]) if x.strip()), flush=True)
            sys.stdout.flush()
            if state.gen_done:
                if gen_done_at is None:
                    gen_done_at = time.time()
                busy = any(
                    q.status["isDataAvailable"] or q.status["isTriggerActive"] for q in pipeline.queries.values()
                )
                idle_since = None if busy else (idle_since or time.time())
                if idle_since is not None and time.time() - idle_since > 2.0:
                    break  # drained: every stream caught up
                if time.time() - gen_done_at > args.drain_seconds:
                    break
    finally:
        stop.set()
        generator.join(timeout=5)
        tracker.poll(*pipeline.queries.values())
        final_screen = render(state, pipeline, tracker, db, spark, paths, gen_stats) if not error else ""
        pipeline.stop()
        db.close()
    if error:
        print(f"error: a stream failed: {error}", file=sys.stderr)
        return 1
    print("\x1b[2J\x1b[H" + final_screen if tty else final_screen)
    p50, p99 = tracker.percentiles(50, 99)
    print(
        f"\nstopped: generated {gen_stats.sent:,} events in {time.time() - state.started:.0f} s "
        f"({', '.join(f'{k}={v}' for k, v in sorted(gen_stats.by_kind.items()))}); "
        f"latency p50 {_fmt(p50)} p99 {_fmt(p99)}; tables and gold.db kept in {root}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
