"""Plain-Python gold: what the pipeline must serve, computed from the generated trades.

Deliberately written without Spark and without the pipeline's code, so a bug
in the transformations cannot hide in the reference too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from streaming_jobs.config import AlertRule
from streaming_jobs.generator.events import Trade

SIX = Decimal("0.000001")


def window_of(t: datetime, seconds: int) -> tuple[datetime, datetime]:
    epoch = int(t.timestamp() * 1000) // 1000  # windows start on whole multiples of the size since the epoch
    start = epoch - epoch % seconds
    s = datetime.fromtimestamp(start, UTC)
    return s, s + timedelta(seconds=seconds)


def ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


@dataclass
class SymbolWindow:
    window_start: str
    window_end: str
    symbol: str
    trade_count: int
    volume: int
    notional: Decimal
    sum_price: Decimal
    avg_price: Decimal
    vwap: Decimal
    open_price: Decimal
    close_price: Decimal
    high_price: Decimal
    low_price: Decimal
    price_change_pct: Decimal
    price_range_pct: Decimal
    first_event_time: str
    last_event_time: str


@dataclass
class Gold:
    symbol_windows: dict[tuple[str, str], SymbolWindow]
    side_windows: dict[tuple[str, str], tuple[int, int, Decimal]]  # (count, volume, notional)
    totals: dict[str, tuple[int, int, Decimal]]
    alerts: set[tuple[str, str, str]]  # active (rule, symbol, window_start)
    quantity_by_symbol: dict[str, int]
    share_pct: dict[str, float]
    cumulative: dict[str, int]  # window_start -> cumulative quantity within its UTC day


def gold_reference(trades: Iterable[Trade], window_seconds: int, rules: tuple[AlertRule, ...]) -> Gold:
    by_sym: dict[tuple[str, str], list[Trade]] = defaultdict(list)
    bounds: dict[str, str] = {}
    side: dict[tuple[str, str], list[Trade]] = defaultdict(list)
    tot: dict[str, list[Trade]] = defaultdict(list)
    for t in trades:
        s, e = window_of(t.event_time, window_seconds)
        key = ts(s)
        bounds[key] = ts(e)
        by_sym[(key, t.symbol)].append(t)
        side[(key, t.side)].append(t)
        tot[key].append(t)

    def sums(ts_: list[Trade]) -> tuple[int, int, Decimal]:
        return len(ts_), sum(t.quantity for t in ts_), sum((t.price * t.quantity for t in ts_), Decimal(0))

    symbol_windows = {}
    for (w, sym), group in by_sym.items():
        n, vol, notional = sums(group)
        sum_price = sum((t.price for t in group), Decimal(0))
        # First and last by event time; trades at the same instant by price.
        ordered = sorted(group, key=lambda t: (t.event_time, t.price))
        o, c = ordered[0].price, ordered[-1].price
        hi, lo = max(t.price for t in group), min(t.price for t in group)
        symbol_windows[(w, sym)] = SymbolWindow(
            w,
            bounds[w],
            sym,
            n,
            vol,
            notional,
            sum_price,
            (sum_price / n).quantize(SIX, ROUND_HALF_UP),
            (notional / vol).quantize(SIX, ROUND_HALF_UP),
            o,
            c,
            hi,
            lo,
            # Exact ratios (Fractions), rounded as gold rounds them: 15 decimals, half-up.
            _pct(c - o, o),
            _pct(hi - lo, lo),
            ts(ordered[0].event_time),
            ts(max(t.event_time for t in group)),
        )
    alerts = set()
    for (w, sym), row in symbol_windows.items():
        for rule in rules:
            if rule.matches(getattr(row, rule.metric), sym):
                alerts.add((rule.name, sym, w))
    qty: dict[str, int] = defaultdict(int)
    for row in symbol_windows.values():
        qty[row.symbol] += row.volume
    total_qty = sum(qty.values())
    cumulative: dict[str, int] = {}
    running: dict[str, int] = defaultdict(int)
    for w in sorted(tot):
        day = w[:10]
        running[day] += sums(tot[w])[1]
        cumulative[w] = running[day]
    return Gold(
        symbol_windows=symbol_windows,
        side_windows={k: sums(v) for k, v in side.items()},
        totals={k: sums(v) for k, v in tot.items()},
        alerts=alerts,
        quantity_by_symbol=dict(qty),
        share_pct={s: 100.0 * q / total_qty for s, q in qty.items()},
        cumulative=cumulative,
    )


def _pct(delta: Decimal, base: Decimal) -> Decimal:
    """(delta x 100 / base) rounded half-up to 15 decimals, the quotient taken to 60 digits first."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (delta * 100 / base).quantize(Decimal("1e-15"), ROUND_HALF_UP)
