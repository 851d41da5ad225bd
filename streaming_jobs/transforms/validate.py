"""Validate parsed events: the valid ones become silver rows, every other one a quarantine row with reasons.

The split is total by construction: `is_valid` is the conjunction of the same
checks `reasons` reports, so a record is either valid or has at least one
reason (a record failing in a way no specific check names falls back to
MALFORMED_JSON). Nothing is dropped silently.

Lateness: an event whose bronze ingestion time is more than the watermark after
its event time is LATE_EVENT. Deciding it per record against ingestion time
(recorded in bronze) makes the decision identical on every replay, unlike a
check against Spark's watermark, which moves with micro-batch boundaries.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs import reasons as rc
from streaming_jobs.config import ValidationRules
from streaming_jobs.schemas import CORRUPT, EVENT_FIELDS
from streaming_jobs.transforms.parse import with_raw_fields

EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_:.\-]{0,127}$"
_LINEAGE = ("topic", "partition", "offset", "source_file", "ingest_time")


def _evt(name: str) -> Column:
    return F.col(f"evt.{name}")


def _symbol() -> Column:
    return F.upper(F.trim(_evt("symbol")))


def _side() -> Column:
    return F.upper(F.trim(_evt("side")))


def _micros(seconds: float) -> Column:
    return F.lit(round(seconds * 1_000_000))


def _checks(rules: ValidationRules) -> list[tuple[str, Column]]:
    """(reason, failure condition) on the typed parse, in reporting order. Conditions may be null:
    a null condition means the field is absent, which a MISSING_FIELD check reports instead."""
    event_us, ingest_us = F.unix_micros(_evt("event_time")), F.unix_micros(F.col("ingest_time"))
    return [
        (rc.bad_type("event_id"), ~_evt("event_id").rlike(EVENT_ID_PATTERN)),
        (rc.out_of_range("price"), (_evt("price") <= 0) | (_evt("price") > F.lit(rules.max_price))),
        (rc.out_of_range("quantity"), (_evt("quantity") < 1) | (_evt("quantity") > rules.max_quantity)),
        (rc.out_of_range("event_time"), event_us > ingest_us + _micros(rules.max_future_skew.seconds)),
        (rc.UNKNOWN_SIDE, ~_side().isin(*rules.sides)),
        (rc.UNKNOWN_SYMBOL, ~_symbol().isin(*rules.symbols)),
        (rc.LATE_EVENT, event_us < ingest_us - _micros(rules.watermark.seconds)),
    ]


def is_valid(rules: ValidationRules) -> Column:
    """True only for a record silver accepts; never null."""
    ok = F.col("evt").isNotNull() & _evt(CORRUPT).isNull()
    for name in rc.REQUIRED_FIELDS:
        ok = ok & _evt(name).isNotNull()
    for _, failed in _checks(rules):
        ok = ok & ~failed
    return F.coalesce(ok, F.lit(False))


def valid_events(parsed: DataFrame, rules: ValidationRules) -> DataFrame:
    """Silver columns of the records that pass every check (not yet de-duplicated)."""
    return parsed.filter(is_valid(rules)).select(
        _evt("event_id").alias("event_id"),
        _symbol().alias("symbol"),
        _side().alias("side"),
        _evt("price").alias("price"),
        _evt("quantity").alias("quantity"),
        _evt("event_time").alias("event_time"),
        _evt("producer_id").alias("producer_id"),
        _evt("producer_seq").alias("producer_seq"),
        *_LINEAGE,
    )


def reasons_column(rules: ValidationRules) -> Column:
    """Every failed check of a rejected record; needs the `raw` column (parse.with_raw_fields)."""
    payload = F.col("payload")
    malformed = payload.isNull() | (F.trim(payload) == "") | F.col("raw").isNull() | F.col(f"raw.{CORRUPT}").isNotNull()
    found: list[Column] = []
    for name in rc.REQUIRED_FIELDS:
        found.append(F.when(F.col(f"raw.{name}").isNull(), F.lit(rc.missing(name))))
    for name in EVENT_FIELDS:
        # Present as text but unreadable as its type: the typed parse left it null.
        found.append(F.when(F.col(f"raw.{name}").isNotNull() & _evt(name).isNull(), F.lit(rc.bad_type(name))))
    for code, failed in _checks(rules):
        found.append(F.when(F.coalesce(failed, F.lit(False)), F.lit(code)))
    specific = F.filter(F.array(*found), lambda c: c.isNotNull())
    # Unique codes in check order (bad_type(event_id) can come from two checks).
    specific = F.array_distinct(specific)
    return (
        F.when(malformed, F.array(F.lit(rc.MALFORMED_JSON)))
        .when(F.size(specific) == 0, F.array(F.lit(rc.MALFORMED_JSON)))
        .otherwise(specific)
    )


def quarantine_events(parsed: DataFrame, rules: ValidationRules) -> DataFrame:
    """Quarantine rows (schemas.QUARANTINE_SCHEMA) for every record `is_valid` rejects."""
    rejected = with_raw_fields(parsed.filter(~is_valid(rules)))
    return rejected.withColumn("reasons", reasons_column(rules)).select(
        F.col("reasons")[0].alias("reason"),
        F.col("reasons"),
        F.col("payload"),
        F.coalesce(_evt("event_id"), F.col("raw.event_id")).alias("event_id"),
        _evt("event_time").alias("event_time"),
        *_LINEAGE,
    )
