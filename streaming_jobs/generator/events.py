"""A seeded market-data simulator: trade events with bursts, price jumps and every kind of bad record.

Each generated item carries its ground truth (what kind it is, which
quarantine reason it must get, the typed trade if it is a real one), so tests
and the benchmark compute the expected gold figures from the very events that
went into the pipeline. Nothing here imports Spark or Azure.
"""

from __future__ import annotations

import json
import math
import random
from bisect import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate

from streaming_jobs import reasons as rc

# Starting prices; weights make some symbols trade more than others (as on a real tape).
DEFAULT_SYMBOLS: dict[str, tuple[float, float]] = {
    "AAPL": (190.0, 1.0),
    "MSFT": (420.0, 1.0),
    "GOOGL": (170.0, 1.3),
    "TSLA": (250.0, 1.1),
    "AMZN": (185.0, 0.8),
    "NVDA": (120.0, 1.2),
    "META": (500.0, 0.6),
    "JPM": (200.0, 0.5),
}

KIND_VALID = "valid"
KIND_LATE_OK = "late_within_watermark"  # late, but not later than the watermark: counts in gold
KIND_LATE = "late_beyond_watermark"  # LATE_EVENT
KIND_DUPLICATE = "duplicate"  # an exact re-send of an event already sent (producer retry)
MALFORMED_PREFIX = "malformed:"

# Every kind of bad record the generator makes, with the quarantine reason silver must give it.
MALFORMED_KINDS: dict[str, str] = {
    "truncated_json": rc.MALFORMED_JSON,
    "not_json": rc.MALFORMED_JSON,
    "empty": rc.MALFORMED_JSON,
    "json_array": rc.MALFORMED_JSON,
    "missing_event_id": rc.missing("event_id"),
    "missing_symbol": rc.missing("symbol"),
    "missing_side": rc.missing("side"),
    "missing_price": rc.missing("price"),
    "missing_quantity": rc.missing("quantity"),
    "missing_event_time": rc.missing("event_time"),
    "bad_event_id": rc.bad_type("event_id"),
    "bad_price": rc.bad_type("price"),
    "bad_quantity": rc.bad_type("quantity"),
    "fractional_quantity": rc.bad_type("quantity"),
    "bad_event_time": rc.bad_type("event_time"),
    "bad_producer_seq": rc.bad_type("producer_seq"),
    "negative_price": rc.out_of_range("price"),
    "zero_quantity": rc.out_of_range("quantity"),
    "huge_quantity": rc.out_of_range("quantity"),
    "future_event_time": rc.out_of_range("event_time"),
    "unknown_side": rc.UNKNOWN_SIDE,
    "unknown_symbol": rc.UNKNOWN_SYMBOL,
}


# A version-4 UUID from 128 random bits, as uuid.UUID(int=bits, version=4) sets them: variant 10xx, version 4.
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID_SET = (0x8000 << 48) | (0x4000 << 64)


def uuid4_text(bits: int) -> str:
    """str(uuid.UUID(int=bits, version=4)) without building the UUID object (half its cost)."""
    h = f"{(bits & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class Trade:
    """A real trade as silver must see it."""

    event_id: str
    symbol: str
    side: str
    price: Decimal
    quantity: int
    event_time: datetime  # UTC, millisecond precision
    producer_id: str
    producer_seq: int


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    payload: str
    kind: str
    # The quarantine reason silver must give it; None for trades that belong in silver (and duplicates).
    expected_reason: str | None
    trade: Trade | None  # set for valid, late-within-watermark and duplicate items

    @property
    def partition_key(self) -> str:
        """The symbol, so one symbol's events stay in order on one partition."""
        return self.trade.symbol if self.trade else "unkeyed"


@dataclass
class GeneratorConfig:
    symbols: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_SYMBOLS))
    seed: int = 7
    producer_id: str = "gen-01"
    duplicate_rate: float = 0.02
    late_rate: float = 0.01  # beyond the watermark
    late_ok_rate: float = 0.02  # late but within the watermark
    malformed_rate: float = 0.02
    # How far back late events are: must exceed the pipeline's watermark (+ skew) and stay within it.
    late_by: timedelta = timedelta(minutes=5)
    late_ok_by: timedelta = timedelta(seconds=10)
    future_by: timedelta = timedelta(days=1)  # beyond any sane max-future-skew
    volatility: float = 0.0002  # per-event log-return standard deviation
    jump_probability: float = 0.0001  # per event: a 3-12 % jump (news)
    block_trade_probability: float = 0.002  # a quantity 50-200x the usual
    max_quantity: int = 10_000_000  # OUT_OF_RANGE:quantity above it (matches ValidationRules)

    def __post_init__(self) -> None:
        total = self.duplicate_rate + self.late_rate + self.late_ok_rate + self.malformed_rate
        if not 0 <= total < 1:
            raise ValueError(f"the anomaly rates add up to {total:.3f}; they must stay below 1")


@lru_cache(maxsize=4096)
def iso_ms(t: datetime) -> str:
    """Cached: a producer stamps every event of a send with one clock reading, and strftime is the
    dearest step of making an event."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def trade_payload(t: Trade) -> str:
    """The JSON the producer sends (fields in a fixed order; numbers as JSON numbers)."""
    return (
        f'{{"event_id":"{t.event_id}","symbol":"{t.symbol}","side":"{t.side}","price":{t.price},'
        f'"quantity":{t.quantity},"event_time":"{iso_ms(t.event_time)}","producer_id":"{t.producer_id}",'
        f'"producer_seq":{t.producer_seq},"schema_version":1}}'
    )


class MarketSimulator:
    """Deterministic for a given seed and sequence of clock values."""

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        self.config = config or GeneratorConfig()
        self._rng = random.Random(self.config.seed)
        self._symbols = list(self.config.symbols)
        self._cum_weights = list(accumulate(w for _, w in self.config.symbols.values()))
        self._last_symbol = len(self._symbols) - 1
        self._prices = {s: p for s, (p, _) in self.config.symbols.items()}
        self._buy_bias = {s: 0.5 for s in self._symbols}
        self._seq = 0
        # Duplicates re-send one of the last few hundred events: a retry, not a replay from hours ago.
        self._recent: deque[GeneratedEvent] = deque(maxlen=256)
        self._malformed = sorted(MALFORMED_KINDS)

    # ------------------------------------------------------------------ trades

    def _event_id(self) -> str:
        return uuid4_text(self._rng.getrandbits(128))

    def _next_trade(self, event_time: datetime) -> Trade:
        rng, cfg = self._rng, self.config
        # random.choices' own draw (one random() into the cumulative weights), without its per-call set-up.
        symbol = self._symbols[bisect(self._cum_weights, rng.random() * self._cum_weights[-1], 0, self._last_symbol)]
        price = self._prices[symbol] * math.exp(rng.gauss(0.0, cfg.volatility))
        if rng.random() < cfg.jump_probability:
            price *= 1.0 + rng.choice((-1, 1)) * rng.uniform(0.03, 0.12)
        price = max(price, 0.01)
        self._prices[symbol] = price
        qty = max(1, int(rng.lognormvariate(4.0, 1.0)))
        if rng.random() < cfg.block_trade_probability:
            qty *= rng.randint(50, 200)
        qty = min(qty, cfg.max_quantity)
        # Side regimes drift slowly, so BUY/SELL counts move like order-flow imbalance.
        bias = min(0.8, max(0.2, self._buy_bias[symbol] + rng.gauss(0.0, 0.01)))
        self._buy_bias[symbol] = bias
        side = "BUY" if rng.random() < bias else "SELL"
        self._seq += 1
        return Trade(
            event_id=self._event_id(),
            symbol=symbol,
            side=side,
            price=Decimal(f"{price:.2f}"),
            quantity=qty,
            event_time=event_time.replace(microsecond=event_time.microsecond // 1000 * 1000),
            producer_id=cfg.producer_id,
            producer_seq=self._seq,
        )

    # ------------------------------------------------------------------ bad records

    def _malformed_event(self, kind: str, now: datetime) -> GeneratedEvent:
        t = self._next_trade(now)
        doc: dict[str, object] = {
            "event_id": t.event_id,
            "symbol": t.symbol,
            "side": t.side,
            "price": float(t.price),
            "quantity": t.quantity,
            "event_time": iso_ms(t.event_time),
            "producer_id": t.producer_id,
            "producer_seq": t.producer_seq,
            "schema_version": 1,
        }
        payload: str | None = None
        if kind == "truncated_json":
            full = json.dumps(doc)
            payload = full[: self._rng.randint(5, len(full) - 5)]
        elif kind == "not_json":
            payload = self._rng.choice(
                ["<html><body>503 Service Unavailable</body></html>", f"{t.symbol},{t.price},{t.quantity},{t.side}"]
            )
        elif kind == "empty":
            payload = ""
        elif kind == "json_array":
            payload = json.dumps([doc])
        elif kind.startswith("missing_"):
            doc.pop(kind.removeprefix("missing_"))
        elif kind == "bad_event_id":
            doc["event_id"] = {"id": t.event_id}
        elif kind == "bad_price":
            doc["price"] = self._rng.choice(["N/A", "twelve", "1.2.3"])
        elif kind == "bad_quantity":
            doc["quantity"] = self._rng.choice(["lots", True])
        elif kind == "fractional_quantity":
            doc["quantity"] = t.quantity + 0.5
        elif kind == "bad_event_time":
            doc["event_time"] = self._rng.choice(["yesterday", "2026-13-45T25:61:00Z", "soon"])
        elif kind == "bad_producer_seq":
            doc["producer_seq"] = "seq-" + str(t.producer_seq)
        elif kind == "negative_price":
            doc["price"] = self._rng.choice([-float(t.price), 0])
        elif kind == "zero_quantity":
            doc["quantity"] = self._rng.choice([0, -t.quantity])
        elif kind == "huge_quantity":
            doc["quantity"] = self.config.max_quantity + 1 + t.quantity
        elif kind == "future_event_time":
            doc["event_time"] = iso_ms(now + self.config.future_by)
        elif kind == "unknown_side":
            doc["side"] = self._rng.choice(["HOLD", "SHORT", "B"])
        elif kind == "unknown_symbol":
            doc["symbol"] = self._rng.choice(["ZZZZ", "XYZ1", "NOPE"])
        else:
            raise ValueError(f"unknown malformed kind {kind!r}")
        if payload is None:
            payload = json.dumps(doc, separators=(",", ":"))
        return GeneratedEvent(payload, MALFORMED_PREFIX + kind, MALFORMED_KINDS[kind], None)

    # ------------------------------------------------------------------ the stream

    def next_event(self, now: datetime) -> GeneratedEvent:
        """The next item of the stream at wall-clock time `now` (UTC)."""
        cfg, r = self.config, self._rng.random()
        if r < cfg.duplicate_rate and self._recent:
            original = self._rng.choice(self._recent)
            return GeneratedEvent(original.payload, KIND_DUPLICATE, None, original.trade)
        r -= cfg.duplicate_rate
        if r < cfg.malformed_rate:
            return self._malformed_event(self._rng.choice(self._malformed), now)
        r -= cfg.malformed_rate
        if r < cfg.late_rate:
            t = self._next_trade(now - cfg.late_by * self._rng.uniform(1.0, 2.0))
            return GeneratedEvent(trade_payload(t), KIND_LATE, rc.LATE_EVENT, None)
        r -= cfg.late_rate
        if r < cfg.late_ok_rate:
            t = self._next_trade(now - cfg.late_ok_by * self._rng.uniform(0.2, 1.0))
            event = GeneratedEvent(trade_payload(t), KIND_LATE_OK, None, t)
        else:
            t = self._next_trade(now)
            event = GeneratedEvent(trade_payload(t), KIND_VALID, None, t)
        self._recent.append(event)
        return event

    def events(self, count: int, start: datetime, rate: float) -> list[GeneratedEvent]:
        """`count` items with clock values spaced at `rate` per second from `start` (for tests and benches)."""
        step = 1.0 / rate
        return [self.next_event(start + timedelta(seconds=i * step)) for i in range(count)]

    def every_malformed_kind(self, now: datetime) -> list[GeneratedEvent]:
        """One record of each bad kind (tests use it so no kind is left to chance)."""
        items = [self._malformed_event(kind, now) for kind in self._malformed]
        late = self._next_trade(now - self.config.late_by * 1.5)
        items.append(GeneratedEvent(trade_payload(late), KIND_LATE, rc.LATE_EVENT, None))
        return items


def stream_forever(sim: MarketSimulator, clock: Iterator[datetime]) -> Iterator[GeneratedEvent]:
    for now in clock:
        yield sim.next_event(now)
