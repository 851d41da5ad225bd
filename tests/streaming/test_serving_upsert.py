"""The per-batch upsert: idempotent on replay, atomic on failure (SQLite, the same code as Azure SQL)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from streaming_jobs.serving.connections import SqliteSession
from streaming_jobs.serving.migrate import migrate
from streaming_jobs.serving.schema import ALERTS, GOLD_SCHEMA, GOLD_TABLES, SYMBOL_WINDOW_METRICS
from streaming_jobs.serving.upsert import GoldBatch, apply_batch


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteSession]:
    session = SqliteSession(tmp_path / "gold.db")
    migrate(session)
    yield session
    session.close()


def _symbol_row(window: str, symbol: str, count: int, volume: int, batch: int) -> tuple[Any, ...]:
    price = Decimal("100.5000")
    values = {
        "window_start": window,
        "window_end": window[:-6] + "1:00.000",
        "symbol": symbol,
        "trade_count": count,
        "volume": volume,
        "notional": price * volume,
        "sum_price": price * count,
        "avg_price": Decimal("100.500000"),
        "vwap": Decimal("100.500000"),
        "open_price": price,
        "close_price": price,
        "high_price": price,
        "low_price": price,
        "price_change_pct": 0.0,
        "price_range_pct": 0.0,
        "first_event_time": window,
        "last_event_time": window,
        "batch_id": batch,
        "updated_at": f"2026-03-02 10:00:0{batch}.000",
    }
    return tuple(values[c] for c in SYMBOL_WINDOW_METRICS.column_names)


def _alert(rule: str, symbol: str, window: str, value: float, batch: int) -> tuple[Any, ...]:
    values = {
        "rule_name": rule,
        "symbol": symbol,
        "window_start": window,
        "window_end": window,
        "metric": "volume",
        "operator": ">=",
        "threshold": 100.0,
        "metric_value": value,
        "active": 1,
        "first_batch_id": batch,
        "detected_at": f"2026-03-02 10:00:0{batch}.000",
        "batch_id": batch,
        "updated_at": f"2026-03-02 10:00:0{batch}.000",
    }
    return tuple(values[c] for c in ALERTS.column_names)


def _snapshot(db: SqliteSession) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: db.query(f"SELECT * FROM {GOLD_SCHEMA}.{name} ORDER BY 1, 2")
        for name in GOLD_TABLES
        if name != "serving_batches"
    } | {"ledger": db.query(f"SELECT query_id, batch_id, row_count, committed_at FROM {GOLD_SCHEMA}.serving_batches")}


W1, W2 = "2026-03-02 10:00:00.000", "2026-03-02 10:01:00.000"


def test_replayed_batch_changes_nothing(db: SqliteSession) -> None:
    batch = GoldBatch("q1", 0, {"symbol_window_metrics": [_symbol_row(W1, "AAPL", 3, 300, 0)]})
    assert apply_batch(db, batch) is True
    before = _snapshot(db)
    assert apply_batch(db, batch) is False  # found in the ledger
    assert _snapshot(db) == before


def test_later_batch_overwrites_by_key(db: SqliteSession) -> None:
    apply_batch(db, GoldBatch("q1", 0, {"symbol_window_metrics": [_symbol_row(W1, "AAPL", 3, 300, 0)]}))
    apply_batch(
        db,
        GoldBatch(
            "q1",
            1,
            {"symbol_window_metrics": [_symbol_row(W1, "AAPL", 5, 500, 1), _symbol_row(W2, "AAPL", 1, 10, 1)]},
        ),
    )
    rows = db.query(f"SELECT window_start, trade_count, volume, batch_id FROM {SYMBOL_WINDOW_METRICS.qualified}")
    assert sorted(rows) == [(W1, 5, 500, 1), (W2, 1, 10, 1)]


def test_same_values_without_the_ledger_are_idempotent_too(db: SqliteSession) -> None:
    """Spark replays a batch with the same input and state, so even a lost ledger row changes nothing."""
    batch = GoldBatch("q1", 4, {"symbol_window_metrics": [_symbol_row(W1, "MSFT", 2, 20, 4)]})
    apply_batch(db, batch)
    before = _snapshot(db)
    db.begin()
    db.execute(f"DELETE FROM {GOLD_SCHEMA}.serving_batches")
    db.commit()
    assert apply_batch(db, batch) is True
    after = _snapshot(db)
    assert {k: v for k, v in after.items() if k != "ledger"} == {k: v for k, v in before.items() if k != "ledger"}


class _Exploding(SqliteSession):
    """Fails on the Nth statement, like a dropped connection mid-batch."""

    def __init__(self, path: Path, fail_at: int) -> None:
        super().__init__(path)
        self.fail_at, self.count = fail_at, 0

    def executemany(self, sql: str, rows: Any) -> None:
        self.count += 1
        if self.count == self.fail_at:
            raise ConnectionError("connection lost")
        super().executemany(sql, rows)


def test_failure_mid_batch_rolls_back_and_the_retry_applies(tmp_path: Path) -> None:
    path = tmp_path / "gold.db"
    setup = SqliteSession(path)
    migrate(setup)
    setup.close()
    batch = GoldBatch(
        "q1",
        0,
        {
            "symbol_window_metrics": [_symbol_row(W1, "AAPL", 3, 300, 0)],
            "alerts": [_alert("volume_surge", "AAPL", W1, 300.0, 0)],
        },
    )
    broken = _Exploding(path, fail_at=2)
    with pytest.raises(ConnectionError):
        apply_batch(broken, batch)
    broken.close()
    db = SqliteSession(path)
    assert _snapshot(db)["symbol_window_metrics"] == [] and _snapshot(db)["ledger"] == []
    assert apply_batch(db, batch) is True
    assert len(_snapshot(db)["alerts"]) == 1
    db.close()


def test_alerts_keep_first_detection_and_clear_without_inserting(db: SqliteSession) -> None:
    apply_batch(db, GoldBatch("q1", 1, {"alerts": [_alert("volume_surge", "AAPL", W1, 150.0, 1)]}))
    apply_batch(db, GoldBatch("q1", 2, {"alerts": [_alert("volume_surge", "AAPL", W1, 180.0, 2)]}))
    row = db.query(f"SELECT metric_value, active, first_batch_id, detected_at, batch_id FROM {ALERTS.qualified}")
    assert row == [(180.0, 1, 1, "2026-03-02 10:00:01.000", 2)]
    clears = [(90.0, 3, "2026-03-02 10:00:03.000", "volume_surge", "AAPL", W1)]
    clears.append((10.0, 3, "2026-03-02 10:00:03.000", "volume_surge", "MSFT", W1))  # never raised
    apply_batch(db, GoldBatch("q1", 3, alert_clears=clears))
    rows = db.query(f"SELECT symbol, metric_value, active, first_batch_id FROM {ALERTS.qualified}")
    assert rows == [("AAPL", 90.0, 0, 1)]
    assert db.query(f"SELECT COUNT(*) FROM {GOLD_SCHEMA}.v_active_alerts") == [(0,)]


def test_rows_of_the_wrong_width_are_rejected(db: SqliteSession) -> None:
    with pytest.raises(ValueError, match="row has 2 values"):
        apply_batch(db, GoldBatch("q1", 0, {"side_window_metrics": [(W1, W2)]}))
    with pytest.raises(ValueError, match="not a gold table"):
        apply_batch(db, GoldBatch("q1", 0, {"trades": []}))
    assert _snapshot(db)["ledger"] == []
