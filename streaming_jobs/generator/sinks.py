"""Where generated events go: a local landing directory, or Event Hubs with an Entra ID identity."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from streaming_jobs.generator.events import GeneratedEvent, MarketSimulator


class EventSink(Protocol):
    def send(self, events: Sequence[GeneratedEvent]) -> None: ...

    def close(self) -> None: ...


class LandingDirSink:
    """One JSON-lines file per send, written under a hidden name and renamed into place.

    Spark's file source skips names starting with '.', and a rename is atomic,
    so the stream never reads a half-written file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def send(self, events: Sequence[GeneratedEvent]) -> None:
        if not events:
            return
        self._n += 1
        name = f"events-{time.time_ns()}-{self._n:08d}.jsonl"
        tmp = self.path / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("\n".join(e.payload for e in events))
            fh.write("\n")
        os.replace(tmp, self.path / name)

    def close(self) -> None:
        pass


class EventHubsSink:
    """Event Hubs through azure-eventhub, authenticated with DefaultAzureCredential (no connection string).

    Events of one symbol share a partition key, so each symbol's order is kept.
    """

    def __init__(self, namespace: str, eventhub: str) -> None:
        from azure.eventhub import EventHubProducerClient
        from azure.identity import DefaultAzureCredential

        fqdn = namespace if "." in namespace else f"{namespace}.servicebus.windows.net"
        self._client = EventHubProducerClient(
            fully_qualified_namespace=fqdn, eventhub_name=eventhub, credential=DefaultAzureCredential()
        )

    def send(self, events: Sequence[GeneratedEvent]) -> None:
        from azure.eventhub import EventData

        by_key: dict[str, list[GeneratedEvent]] = {}
        for e in events:
            key = e.trade.symbol if e.trade else "unkeyed"
            by_key.setdefault(key, []).append(e)
        for key, items in by_key.items():
            batch = self._client.create_batch(partition_key=key)
            for e in items:
                data = EventData(e.payload)
                try:
                    batch.add(data)
                except ValueError:  # batch full: send it and start another
                    self._client.send_batch(batch)
                    batch = self._client.create_batch(partition_key=key)
                    batch.add(data)
            self._client.send_batch(batch)

    def close(self) -> None:
        self._client.close()


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
