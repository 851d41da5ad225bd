"""Timing of alternatives on the same data: interleaved rounds after an uncounted one, medians, ratio."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(variants: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Seconds per run of each variant; round 0 (JIT, caches) is not counted, so a drifting machine or
    JIT affects every variant alike."""
    seconds: dict[str, list[float]] = {k: [] for k in variants}
    for round_ in range(runs + 1):
        for name, run in variants.items():
            t0 = time.perf_counter()
            run()
            if round_:
                seconds[name].append(time.perf_counter() - t0)
    return seconds


def report(seconds: dict[str, list[float]], before: str, after: str, per: tuple[int, str] | None = None) -> None:
    med = {k: statistics.median(v) for k, v in seconds.items()}
    for name, m in med.items():
        rate = f"  {per[0] / m:12,.0f} {per[1]}/s" if per else ""
        print(f"{name:<18} {m:6.2f} s{rate}   runs: {[round(x, 2) for x in seconds[name]]}")
    print(f"ratio ({before} / {after}): {med[before] / med[after]:.2f}x")
