"""CLI: python -m streaming_jobs.generator --rate 1000 --seconds 60 --landing out/landing

or, to Event Hubs with the signed-in / managed identity (no connection string):
python -m streaming_jobs.generator --rate 200 --seconds 300 --eventhubs-namespace <ns> --eventhub trades
"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import timedelta

from streaming_jobs.generator.events import GeneratorConfig, MarketSimulator
from streaming_jobs.generator.sinks import EventHubsSink, EventSink, LandingDirSink, RateController, run_generator


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streaming_jobs.generator", description="Trade-event generator")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--landing", help="local landing directory (JSON lines files)")
    target.add_argument("--eventhubs-namespace", help="Event Hubs namespace name or FQDN")
    p.add_argument("--eventhub", default="trades", help="event hub (topic) name")
    p.add_argument("--rate", type=float, default=1000.0, help="events per second (before bursts)")
    p.add_argument("--seconds", type=float, help="stop after this long")
    p.add_argument("--max-events", type=int, help="stop after this many events")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--duplicate-rate", type=float, default=0.02)
    p.add_argument("--late-rate", type=float, default=0.01, help="share of events later than the watermark")
    p.add_argument("--late-ok-rate", type=float, default=0.02, help="share of events late within the watermark")
    p.add_argument("--malformed-rate", type=float, default=0.02)
    p.add_argument("--late-seconds", type=float, default=300.0, help="how late late events are (> watermark)")
    p.add_argument("--burst-probability", type=float, default=0.02, help="bursts per second")
    args = p.parse_args(argv)
    if args.seconds is None and args.max_events is None:
        p.error("give --seconds or --max-events (the generator always stops by itself)")
    if args.rate <= 0:
        p.error("--rate must be positive")
    try:
        config = GeneratorConfig(
            seed=args.seed,
            duplicate_rate=args.duplicate_rate,
            late_rate=args.late_rate,
            late_ok_rate=args.late_ok_rate,
            malformed_rate=args.malformed_rate,
            late_by=timedelta(seconds=args.late_seconds),
        )
    except ValueError as exc:
        p.error(str(exc))
    sink: EventSink = (
        LandingDirSink(args.landing) if args.landing else EventHubsSink(args.eventhubs_namespace, args.eventhub)
    )
    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    try:
        stats = run_generator(
            MarketSimulator(config),
            sink,
            RateController(args.rate, burst_probability=args.burst_probability, seed=args.seed),
            seconds=args.seconds,
            max_events=args.max_events,
            should_stop=lambda: stop["now"],
        )
    finally:
        sink.close()
    print(f"sent {stats.sent} events: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.by_kind.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
