"""Job configuration parsed from command-line strings, with errors that name the bad input.

Nothing here imports Spark: the parameters are checked before a session starts,
so a typo in a Databricks job parameter fails in a second with a message that
names the parameter instead of deep inside a streaming query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A job parameter is missing or invalid; the message names it."""


# ----------------------------------------------------------------------------- intervals

_UNITS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_INTERVAL = re.compile(r"^\s*(\d+)\s*(millisecond|second|minute|hour|day)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Interval:
    """A duration given as Spark writes it ("30 seconds"), kept with its length in seconds."""

    text: str
    seconds: float

    @classmethod
    def of_seconds(cls, total: float) -> Interval:
        if total == int(total):
            return cls(f"{int(total)} seconds", total)
        return cls(f"{round(total * 1000)} milliseconds", total)

    def __add__(self, other: Interval) -> Interval:
        return Interval.of_seconds(self.seconds + other.seconds)


def parse_interval(value: str, param: str) -> Interval:
    m = _INTERVAL.match(value or "")
    if not m:
        raise ConfigError(
            f"{param}: cannot read {value!r} as a duration; expected '<n> <unit>' with unit "
            f"millisecond/second/minute/hour/day, e.g. '30 seconds'"
        )
    n, unit = int(m.group(1)), m.group(2).lower()
    if n <= 0:
        raise ConfigError(f"{param}: {value!r} must be longer than zero")
    return Interval(f"{n} {unit}{'s' if n != 1 else ''}", n * _UNITS[unit])


# ----------------------------------------------------------------------------- symbols and sides

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,11}$")
DEFAULT_SIDES: tuple[str, ...] = ("BUY", "SELL")


def parse_symbols(value: str, param: str = "--symbols") -> tuple[str, ...]:
    items = [s.strip().upper() for s in (value or "").split(",") if s.strip()]
    if not items:
        raise ConfigError(f"{param}: at least one symbol is required, e.g. 'AAPL,MSFT'")
    bad = [s for s in items if not _SYMBOL.match(s)]
    if bad:
        raise ConfigError(f"{param}: not a ticker symbol: {', '.join(bad)}")
    dupes = sorted({s for s in items if items.count(s) > 1})
    if dupes:
        raise ConfigError(f"{param}: listed twice: {', '.join(dupes)}")
    return tuple(items)


def parse_sides(value: str, param: str = "--sides") -> tuple[str, ...]:
    items = tuple(s.strip().upper() for s in (value or "").split(",") if s.strip())
    if not items:
        raise ConfigError(f"{param}: at least one side is required, e.g. 'BUY,SELL'")
    bad = [s for s in items if not re.match(r"^[A-Z_]{1,8}$", s)]
    if bad:
        raise ConfigError(f"{param}: not a side name (A-Z, up to 8 letters): {', '.join(bad)}")
    return items


def parse_positive_decimal(value: str, param: str) -> Decimal:
    try:
        d = Decimal(value)
    except Exception as exc:  # decimal.InvalidOperation and friends
        raise ConfigError(f"{param}: {value!r} is not a number") from exc
    if not d.is_finite() or d <= 0:
        raise ConfigError(f"{param}: {value!r} must be a positive number")
    return d


# ----------------------------------------------------------------------------- validation rules


@dataclass(frozen=True)
class ValidationRules:
    """What silver accepts. Lateness and the stateful operators' watermarks derive from the same `watermark`."""

    symbols: tuple[str, ...]
    watermark: Interval
    sides: tuple[str, ...] = DEFAULT_SIDES
    max_price: Decimal = Decimal("1000000")
    max_quantity: int = 10_000_000
    # Event times further ahead of the ingestion clock than this are OUT_OF_RANGE:event_time.
    max_future_skew: Interval = field(default_factory=lambda: Interval("1 minute", 60.0))

    @property
    def state_watermark(self) -> Interval:
        """The delay of gold's event-time watermark.

        Silver quarantines an event whose ingestion lags its event time by more
        than `watermark` and rejects one more than `max_future_skew` ahead, so
        every accepted event is at most watermark + skew behind the newest event
        ingested before it. Giving Spark that delay means its own late-row filter
        drops no accepted event as long as gold reads events in ingestion order,
        which silver's one file per micro-batch guarantees whatever gold's
        files-per-trigger cap (jobs.silver.one_file; issue 32, class 5).
        """
        return self.watermark + self.max_future_skew

    @property
    def dedupe_delay(self) -> Interval:
        """The delay of the de-duplication's watermark, which runs on bronze ingestion time.

        Spark keeps an id until the watermark (newest ingestion time - delay) passes the first copy's
        ingestion time + delay: for 2 x delay. A copy silver can still accept arrives at most
        watermark + max_future_skew after the first one (its event time is at most the skew ahead of
        the first copy's ingestion and at most the watermark behind its own), so half of that and a
        second keeps every such copy in reach. On event time the delay would have to be the whole
        state_watermark (Spark's late-row filter), and the state twice as large.
        """
        return Interval.of_seconds((self.watermark.seconds + self.max_future_skew.seconds) / 2 + 1)


# ----------------------------------------------------------------------------- alert rules

# Numeric columns of gold.symbol_window_metrics an alert rule may test.
ALERT_METRICS: tuple[str, ...] = (
    "trade_count",
    "volume",
    "notional",
    "avg_price",
    "vwap",
    "price_change_pct",
    "price_range_pct",
)
ALERT_OPERATORS: tuple[str, ...] = (">", ">=", "<", "<=")
_RULE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class AlertRule:
    """`metric operator threshold`, evaluated on each (window, symbol) row of gold."""

    name: str
    metric: str
    operator: str
    threshold: Decimal  # exactly as written in the JSON (parsed as a decimal, never through a double)
    symbols: tuple[str, ...] = ()  # empty: every symbol

    def matches(self, value: float | Decimal | int | None, symbol: str) -> bool:
        """Plain-Python twin of the Spark expression (used by the gold SQL sink, the reference and the live
        view): exact decimal comparison, as Spark compares a DECIMAL or BIGINT metric with the literal."""
        if value is None or (self.symbols and symbol not in self.symbols):
            return False
        v = value if isinstance(value, Decimal) else Decimal(value)
        return {
            ">": v > self.threshold,
            ">=": v >= self.threshold,
            "<": v < self.threshold,
            "<=": v <= self.threshold,
        }[self.operator]


def parse_alert_rules(value: str, param: str = "--alert-rules") -> tuple[AlertRule, ...]:
    """Rules as the stack passes them: a JSON list of {name, metric, operator, threshold, symbols?}.

    `@path` reads the JSON from a file (handy locally).
    """
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"{param}: cannot read {path}: {exc.strerror}") from exc
    try:
        raw = json.loads(text, parse_float=Decimal)  # 0.1 stays 0.1, not the double nearest to it
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{param}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    if not isinstance(raw, list):
        raise ConfigError(f"{param}: expected a JSON list of rules, got {type(raw).__name__}")
    rules = [_parse_rule(item, f"{param}[{i}]") for i, item in enumerate(raw)]
    names = [r.name for r in rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{param}: rule names must be unique; repeated: {', '.join(dupes)}")
    return tuple(rules)


def _parse_rule(item: Any, where: str) -> AlertRule:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected an object, got {type(item).__name__}")
    unknown = sorted(set(item) - {"name", "metric", "operator", "threshold", "symbols"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key in ("name", "metric", "operator", "threshold"):
        if key not in item:
            raise ConfigError(f"{where}: missing {key!r}")
    name, metric, operator, threshold = item["name"], item["metric"], item["operator"], item["threshold"]
    if not isinstance(name, str) or not _RULE_NAME.match(name):
        raise ConfigError(f"{where}: name {name!r} must be a lower-case slug (a-z, 0-9, _)")
    if metric not in ALERT_METRICS:
        raise ConfigError(f"{where} ({name}): unknown metric {metric!r}; expected one of {', '.join(ALERT_METRICS)}")
    if operator not in ALERT_OPERATORS:
        raise ConfigError(
            f"{where} ({name}): unknown operator {operator!r}; expected one of {' '.join(ALERT_OPERATORS)}"
        )
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float | Decimal)
        or not Decimal(threshold).is_finite()
    ):
        raise ConfigError(f"{where} ({name}): threshold {threshold!r} must be a finite number")
    symbols = item.get("symbols", [])
    if not isinstance(symbols, Sequence) or isinstance(symbols, str):
        raise ConfigError(f"{where} ({name}): symbols must be a list of tickers")
    syms = tuple(str(s).upper() for s in symbols)
    bad = [s for s in syms if not _SYMBOL.match(s)]
    if bad:
        raise ConfigError(f"{where} ({name}): not a ticker symbol: {', '.join(bad)}")
    return AlertRule(name=name, metric=metric, operator=operator, threshold=Decimal(threshold), symbols=syms)


# ----------------------------------------------------------------------------- Kafka auth


class KafkaAuthMode(StrEnum):
    """The values the stack passes as --kafka-auth (components/ingestion.py KafkaAuthMode)."""

    # Event Hubs Kafka endpoint, OAUTHBEARER with Entra ID through a Unity Catalog service credential.
    ENTRA_SERVICE_CREDENTIAL = "entra-service-credential"
    # Confluent Cloud, SASL/PLAIN with an API key read from the Key Vault-backed secret scope.
    SASL_PLAIN_SECRET_SCOPE = "sasl-plain-secret-scope"


def parse_kafka_auth(value: str, param: str = "--kafka-auth") -> KafkaAuthMode:
    try:
        return KafkaAuthMode(value)
    except ValueError:
        allowed = ", ".join(m.value for m in KafkaAuthMode)
        raise ConfigError(f"{param}: unknown Kafka auth mode {value!r}; expected one of {allowed}") from None
