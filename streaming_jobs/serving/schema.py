"""The gold serving tables and views: names, columns, keys. Imports nothing but the stdlib.

This is the one description of gold that everything else is checked against:
the migrations of both SQL dialects (tests compare them with it), the upsert
statements (generated from it), the gold Delta tables on Databricks (created
from it) and the dashboard SQL in the stack (tests elsewhere can check every
column a query names exists here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

GOLD_SCHEMA = "gold"


@dataclass(frozen=True)
class Column:
    name: str
    # Logical type: TIMESTAMP, VARCHAR(n), BIGINT, INT, DECIMAL(p,s), FLOAT, BIT. Dialects map it.
    type: str
    nullable: bool = False


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str
    indexes: tuple[Index, ...] = ()
    # Written on insert only, kept when the row is updated (e.g. when an alert was first seen).
    insert_only: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{GOLD_SCHEMA}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified} has no column {name!r}")


@dataclass(frozen=True)
class View:
    name: str
    columns: tuple[str, ...]
    description: str
    based_on: tuple[str, ...] = field(default=())

    @property
    def qualified(self) -> str:
        return f"{GOLD_SCHEMA}.{self.name}"


def _c(name: str, type_: str, nullable: bool = False) -> Column:
    return Column(name, type_, nullable)


_WINDOW = (_c("window_start", "TIMESTAMP"), _c("window_end", "TIMESTAMP"))
_LINEAGE = (
    _c("batch_id", "BIGINT"),  # the gold micro-batch that last wrote the row
    _c("updated_at", "TIMESTAMP"),  # that batch's timestamp (identical when a batch is replayed)
)
PRICE = "DECIMAL(18,4)"
MONEY = "DECIMAL(38,4)"
AVG = "DECIMAL(19,6)"

SYMBOL_WINDOW_METRICS = Table(
    name="symbol_window_metrics",
    description="Per symbol and event-time window: trades, volume, price trend (alert rules test these columns)",
    columns=(
        *_WINDOW,
        _c("symbol", "VARCHAR(12)"),
        _c("trade_count", "BIGINT"),
        _c("volume", "BIGINT"),  # sum of quantity
        _c("notional", MONEY),  # sum of price * quantity
        _c("sum_price", MONEY),
        _c("avg_price", AVG),  # sum_price / trade_count
        _c("vwap", AVG),  # notional / volume
        _c("open_price", PRICE),
        _c("close_price", PRICE),
        _c("high_price", PRICE),
        _c("low_price", PRICE),
        _c("price_change_pct", "FLOAT"),  # (close - open) / open * 100
        _c("price_range_pct", "FLOAT"),  # (high - low) / low * 100
        _c("first_event_time", "TIMESTAMP"),
        _c("last_event_time", "TIMESTAMP"),
        *_LINEAGE,
    ),
    key=("window_start", "symbol"),
    indexes=(Index("ix_symbol_window_metrics_symbol", ("symbol", "window_start"), ("avg_price", "volume")),),
)

SIDE_WINDOW_METRICS = Table(
    name="side_window_metrics",
    description="Per transaction type (BUY/SELL) and window: transaction count and volume (summed over the "
    "types, the per-window totals the cumulative-quantity view runs over)",
    columns=(
        *_WINDOW,
        _c("side", "VARCHAR(8)"),
        _c("trade_count", "BIGINT"),
        _c("volume", "BIGINT"),
        _c("notional", MONEY),
        *_LINEAGE,
    ),
    key=("window_start", "side"),
)

ALERTS = Table(
    name="alerts",
    description="One row per (rule, symbol, window) that matched; active = still matches the latest figures",
    columns=(
        _c("rule_name", "VARCHAR(63)"),
        _c("symbol", "VARCHAR(12)"),
        *_WINDOW,
        _c("metric", "VARCHAR(32)"),
        _c("operator", "VARCHAR(2)"),
        _c("threshold", "FLOAT"),
        _c("metric_value", "FLOAT"),
        _c("active", "BIT"),
        _c("first_batch_id", "BIGINT"),
        _c("detected_at", "TIMESTAMP"),
        *_LINEAGE,
    ),
    key=("rule_name", "symbol", "window_start"),
    indexes=(Index("ix_alerts_window", ("window_start", "active"), ("rule_name", "symbol", "metric_value")),),
    insert_only=("first_batch_id", "detected_at"),
)

SERVING_BATCHES = Table(
    name="serving_batches",
    description="Ledger of applied gold micro-batches: a replayed batch is found here and skipped",
    columns=(
        _c("query_id", "VARCHAR(64)"),
        _c("batch_id", "BIGINT"),
        _c("row_count", "BIGINT"),
        _c("committed_at", "TIMESTAMP"),
    ),
    key=("query_id", "batch_id"),
)

SCHEMA_HISTORY = Table(
    name="schema_history",
    description="Applied migration versions (the migration runner creates and maintains it)",
    columns=(
        _c("version", "INT"),
        _c("description", "VARCHAR(200)"),
        _c("checksum", "VARCHAR(64)"),
        _c("applied_at", "TIMESTAMP"),
    ),
    key=("version",),
)

# Tables the gold job writes, in upsert order.
GOLD_TABLES: dict[str, Table] = {
    t.name: t for t in (SYMBOL_WINDOW_METRICS, SIDE_WINDOW_METRICS, ALERTS, SERVING_BATCHES)
}
# Every table the migrations define (GOLD_TABLES plus the runner's history table).
ALL_TABLES: dict[str, Table] = {**GOLD_TABLES, SCHEMA_HISTORY.name: SCHEMA_HISTORY}

# The dashboard reads these; one per visual of the trading dashboard.
GOLD_VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        View(
            "v_transaction_count_by_type",
            ("window_start", "window_end", "side", "trade_count", "volume"),
            "Transaction count by transaction type over time",
            ("side_window_metrics",),
        ),
        View(
            "v_price_trend",
            (
                "window_start",
                "window_end",
                "symbol",
                "avg_price",
                "vwap",
                "open_price",
                "close_price",
                "high_price",
                "low_price",
                "price_change_pct",
            ),
            "Average price per symbol over time",
            ("symbol_window_metrics",),
        ),
        View(
            "v_cumulative_quantity",
            ("trading_day", "window_start", "window_end", "quantity", "cumulative_quantity"),
            "Running total of traded quantity, restarting each UTC trading day",
            ("side_window_metrics",),
        ),
        View(
            "v_total_quantity_by_symbol",
            ("symbol", "total_quantity", "trade_count"),
            "Total traded quantity per symbol",
            ("symbol_window_metrics",),
        ),
        View(
            "v_volume_share",
            ("symbol", "total_quantity", "share_pct"),
            "Each symbol's share of total traded volume, in percent",
            ("symbol_window_metrics",),
        ),
        View(
            "v_active_alerts",
            (
                "rule_name",
                "symbol",
                "window_start",
                "window_end",
                "metric",
                "operator",
                "threshold",
                "metric_value",
                "detected_at",
            ),
            "Alerts whose rule still matches the latest figures",
            ("alerts",),
        ),
    )
}


def columns_of(name: str) -> tuple[str, ...]:
    """Columns of a gold table or view by bare or schema-qualified name (for checking dashboard SQL)."""
    bare = name.split(".")[-1].strip('[]"`').lower()
    if bare in ALL_TABLES:
        return ALL_TABLES[bare].column_names
    if bare in GOLD_VIEWS:
        return GOLD_VIEWS[bare].columns
    raise KeyError(f"no gold table or view named {name!r}")
