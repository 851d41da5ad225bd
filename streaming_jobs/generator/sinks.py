"""The generator's pacing and loop; the sinks it sends to are the producers' own (producers/sinks.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from producers.sinks import EventSink, LandingDirSink
from streaming_jobs.generator.events import GeneratedEvent, MarketSimulator

__all__ = ["EventSink", "LandingDirSink", "RateController", "RunStats", "run_generator"]


@dataclass
class RateController:
    """Events per tick for a target rate, with bursts (a multiple of the rate for a few seconds)."""

    rate: float
    burst_probability: float = 0.02  # per second
    burst_multiplier: tuple[float, float] = (3.0, 8.0)
    burst_seconds: tuple[float, float] = (1.0, 3.0)
    seed: int = 11
    _rng: random.Random = field(init=False)
    _burst_until: float = field(init=False, default=0.0)
    _burst_factor: float = field(init=False, default=1.0)
    _carry: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def due(self, now: float, tick: float) -> int:
        if now >= self._burst_until and self._rng.random() < self.burst_probability * tick:
            self._burst_until = now + self._rng.uniform(*self.burst_seconds)
            self._burst_factor = self._rng.uniform(*self.burst_multiplier)
        factor = self._burst_factor if now < self._burst_until else 1.0
        exact = self.rate * factor * tick + self._carry
        n = int(exact)
        self._carry = exact - n
        return n


@dataclass
class RunStats:
    sent: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.time)


def run_generator(
    sim: MarketSimulator,
    sink: EventSink,
    rate: RateController,
    *,
    seconds: float | None = None,
    max_events: int | None = None,
    tick: float = 0.1,
    should_stop: Callable[[], bool] = lambda: False,
    on_send: Callable[[Sequence[GeneratedEvent]], None] | None = None,
) -> RunStats:
    """Send at the controlled rate until the time or event budget is used or `should_stop()` says so."""
    stats = RunStats()
    next_tick = time.monotonic()
    while not should_stop():
        elapsed = time.time() - stats.started
        if seconds is not None and elapsed >= seconds:
            break
        if max_events is not None and stats.sent >= max_events:
            break
        n = rate.due(elapsed, tick)
        if max_events is not None:
            n = min(n, max_events - stats.sent)
        now = datetime.now(UTC)
        batch = [sim.next_event(now) for _ in range(n)]
        sink.send(batch)
        if on_send is not None:
            on_send(batch)
        stats.sent += len(batch)
        for e in batch:
            stats.by_kind[e.kind] = stats.by_kind.get(e.kind, 0) + 1
        next_tick += tick
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_tick = time.monotonic()  # fell behind (a burst bigger than this machine): do not pile up
    return stats
