"""Compare what the serving database holds with the plain-Python reference."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from streaming_jobs.serving.connections import SqliteSession
from streaming_jobs.serving.schema import GOLD_SCHEMA
from tests.streaming.reference import Gold


def close(a: Any, b: Any, rel: float = 1e-9, abs_: float = 1e-6) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def assert_gold_matches(db: SqliteSession, ref: Gold) -> None:
    """Every gold table and view equals the reference: integers exactly, decimals to their scale."""
    rows = db.query(
        f"SELECT window_start, symbol, trade_count, volume, notional, sum_price, avg_price, vwap, open_price,"
        f" close_price, high_price, low_price, price_change_pct, price_range_pct, first_event_time, last_event_time,"
        f" window_end FROM {GOLD_SCHEMA}.symbol_window_metrics"
    )
    got = {(r[0], r[1]): r for r in rows}
    assert set(got) == set(ref.symbol_windows), "different (window, symbol) rows"
    for key, r in got.items():
        e = ref.symbol_windows[key]
        assert (r[2], r[3]) == (e.trade_count, e.volume), key
        for value, expected in zip(r[4:12], (e.notional, e.sum_price, e.avg_price, e.vwap, e.open_price,
                                              e.close_price, e.high_price, e.low_price), strict=True):  # fmt: skip
            assert close(value, expected), (key, value, expected)
        assert close(r[12], e.price_change_pct) and close(r[13], e.price_range_pct), key
        assert (r[14], r[15], r[16]) == (e.first_event_time, e.last_event_time, e.window_end), key

    side = db.query(f"SELECT window_start, side, trade_count, volume, notional FROM {GOLD_SCHEMA}.side_window_metrics")
    assert {(r[0], r[1]): (r[2], r[3]) for r in side} == {k: v[:2] for k, v in ref.side_windows.items()}
    assert all(close(r[4], ref.side_windows[(r[0], r[1])][2]) for r in side)

    totals = db.query(
        f"SELECT window_start, SUM(trade_count), SUM(volume) FROM {GOLD_SCHEMA}.side_window_metrics"
        " GROUP BY window_start"
    )
    assert {r[0]: (r[1], r[2]) for r in totals} == {k: v[:2] for k, v in ref.totals.items()}

    by_symbol = db.query(f"SELECT symbol, total_quantity FROM {GOLD_SCHEMA}.v_total_quantity_by_symbol")
    assert dict(by_symbol) == ref.quantity_by_symbol
    share = dict(db.query(f"SELECT symbol, share_pct FROM {GOLD_SCHEMA}.v_volume_share"))
    assert set(share) == set(ref.share_pct) and all(close(share[s], ref.share_pct[s]) for s in share)
    assert close(sum(share.values()), 100.0)
    cumulative = dict(db.query(f"SELECT window_start, cumulative_quantity FROM {GOLD_SCHEMA}.v_cumulative_quantity"))
    assert cumulative == ref.cumulative
    by_type = db.query(f"SELECT side, SUM(trade_count) FROM {GOLD_SCHEMA}.v_transaction_count_by_type GROUP BY side")
    expected_by_type: dict[str, int] = {}
    for (_, s), (n, _, _) in ref.side_windows.items():
        expected_by_type[s] = expected_by_type.get(s, 0) + n
    assert dict(by_type) == expected_by_type

    active = db.query(f"SELECT rule_name, symbol, window_start FROM {GOLD_SCHEMA}.v_active_alerts")
    assert set(active) == ref.alerts
    assert len(active) == len(set(active))


def decimal(v: Any) -> Decimal:
    return Decimal(str(v))
