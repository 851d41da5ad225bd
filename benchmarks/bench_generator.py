"""The generator's cost per event: the producer shares the benchmark machine's two cores with Spark.

    .venv/bin/python benchmarks/bench_generator.py              # 200,000 events, 5 runs, medians

Two shapes of use: the latency benchmark's producer (python -m streaming_jobs.generator), which stamps
every event of a 0.1 s send with one clock reading (1,000 events at 10,000 events/s), and the
throughput benchmark's backlog (MarketSimulator.events), where every event has its own time. At
10,000 events/s the producer needs rate x cost of one core: CPU the pipeline does not get.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streaming_jobs.generator.events import MarketSimulator  # noqa: E402


def producer_sends(events: int, per_send: int) -> None:
    sim = MarketSimulator()
    now = datetime.now(UTC)
    for i in range(events // per_send):
        stamp = now + timedelta(seconds=i / 10)
        [sim.next_event(stamp) for _ in range(per_send)]


def backlog(events: int) -> None:
    MarketSimulator().events(events, datetime.now(UTC), events / 110.0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--per-send", type=int, default=1_000, help="events per clock reading (the producer's send)")
    a = p.parse_args(argv)
    shapes = {"producer sends": lambda: producer_sends(a.events, a.per_send), "backlog": lambda: backlog(a.events)}
    for name, run in shapes.items():
        run()  # uncounted: imports, caches
        seconds = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - t0)
        med = statistics.median(seconds)
        print(
            f"{name:<15} {a.events / med:10,.0f} events/s  {med / a.events * 1e6:6.1f} us/event  "
            f"runs: {[round(s, 2) for s in seconds]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
