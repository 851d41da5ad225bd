"""The per-batch, idempotent upsert of gold into the serving database.

One gold micro-batch is one transaction: look the batch up in the ledger
(`gold.serving_batches`, keyed by the streaming query's id and the batch id),
skip it if it is there, otherwise upsert every row by its table key and record
the batch. Spark re-runs a batch after a failure with the same input and state,
so a replay either finds its ledger row (it committed before the crash: nothing
changes) or re-applies the same values (it did not: the rollback left nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from streaming_jobs.serving.connections import SqlSession
from streaming_jobs.serving.schema import ALERTS, GOLD_TABLES, SERVING_BATCHES

Row = tuple[Any, ...]

# Tables filled from the aggregate, in the order they are written (the ledger goes last).
UPSERT_TABLES = ("symbol_window_metrics", "side_window_metrics", "alerts")
# An alert that no longer matches is kept but marked inactive; one that never matched is not written.
ALERT_CLEAR_COLUMNS = ("metric_value", "batch_id", "updated_at", "rule_name", "symbol", "window_start")


@dataclass
class GoldBatch:
    query_id: str
    batch_id: int
    # Table name -> rows with the table's columns in schema order.
    rows: dict[str, list[Row]] = field(default_factory=dict)
    # Alerts whose rule no longer matches: values in ALERT_CLEAR_COLUMNS order.
    alert_clears: list[Row] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(r) for r in self.rows.values()) + len(self.alert_clears)


def _clear_sql(session: SqlSession) -> str:
    d = session.dialect
    ph = {c: d.placeholder(ALERTS.column(c)) for c in ALERT_CLEAR_COLUMNS}
    return (
        f"UPDATE {ALERTS.qualified} SET active = 0, metric_value = {ph['metric_value']}, "
        f"batch_id = {ph['batch_id']}, updated_at = {ph['updated_at']} "
        f"WHERE rule_name = {ph['rule_name']} AND symbol = {ph['symbol']} AND window_start = {ph['window_start']}"
    )


def is_applied(session: SqlSession, query_id: str, batch_id: int) -> bool:
    d, t = session.dialect, SERVING_BATCHES
    sql = (
        f"SELECT 1 FROM {t.qualified} WHERE query_id = {d.placeholder(t.column('query_id'))}"
        f" AND batch_id = {d.placeholder(t.column('batch_id'))}"
    )
    return bool(session.query(sql, (query_id, batch_id)))


def apply_batch(session: SqlSession, batch: GoldBatch) -> bool:
    """Apply one gold batch atomically. Returns False when the ledger says it was already applied."""
    unknown = set(batch.rows) - set(UPSERT_TABLES)
    if unknown:
        raise ValueError(f"not a gold table the upsert writes: {sorted(unknown)}")
    session.begin()
    try:
        if is_applied(session, batch.query_id, batch.batch_id):
            session.rollback()
            return False
        for name in UPSERT_TABLES:
            rows = batch.rows.get(name) or []
            if rows:
                table = GOLD_TABLES[name]
                width = len(table.columns)
                bad = next((r for r in rows if len(r) != width), None)
                if bad is not None:
                    raise ValueError(f"{table.qualified}: row has {len(bad)} values, the table {width} columns")
                session.executemany(session.dialect.upsert(table), rows)
        if batch.alert_clears:
            session.executemany(_clear_sql(session), batch.alert_clears)
        session.execute(
            session.dialect.upsert(SERVING_BATCHES),
            (batch.query_id, batch.batch_id, batch.row_count, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]),
        )
        session.commit()
        return True
    except BaseException:
        session.rollback()
        raise
