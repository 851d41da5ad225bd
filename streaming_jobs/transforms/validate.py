"""Validate parsed events: one row per record, accepted or not; every rejected one gets its reasons.

The split is total by construction: `accepted` is "readable, every required
field present, no check failed", and quarantine_rows gives every other record
at least one reason (a record failing in a way no specific check names falls
back to MALFORMED_JSON). Nothing is dropped silently.

The verdict needs the typed parse and parse.strictly_readable, whose exact checks
parse a second time only the records off its fast path, so the accepted path parses
a producer-shaped record once. Reasons are worked out for rejected records alone
(a few per cent), with a parse of their payload as text: comparing the text with
the typed value tells a missing field from a wrongly typed one.

Lateness: an event whose bronze ingestion time is more than the watermark after
its event time is LATE_EVENT. Deciding it per record against ingestion time
(recorded in bronze) makes the decision identical on every replay, unlike a
check against Spark's watermark, which moves with micro-batch boundaries.
"""

from __future__ import annotations

from functools import cache

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs import reasons as rc
from streaming_jobs.config import ValidationRules
from streaming_jobs.schemas import CORRUPT, EVENT_FIELDS, QUARANTINE_SCHEMA, SILVER_SCHEMA
from streaming_jobs.transforms.parse import (
    event_time_of,
    strict_checks,
    strictly_readable,
    valid_utf8,
    with_text_fields,
)

# Event ids: ^[A-Za-z0-9][A-Za-z0-9_:.-]{0,127}$. The classes list every character instead of ranges:
# java.util.regex matches a class of single characters with one table lookup, but tests each range of a
# class as its own predicate, and this check runs on every record (the same pattern written with ranges
# was ~8 % of silver's CPU samples).
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
EVENT_ID_PATTERN = rf"^[{_ALNUM}][{_ALNUM}_:.\-]{{0,127}}$"
LINEAGE = ("topic", "partition", "offset", "source_file", "ingest_time")
ACCEPTED = "accepted"
_UNREADABLE = "_unreadable"
_NORMALISED = ("symbol", "side")  # trimmed and upper-cased before they are checked and stored


def _blank(payload: Column) -> Column:
    return payload.isNull() | (F.trim(payload) == "")


def _typed(evt: Column, name: str) -> Column:
    if name in _NORMALISED:
        return F.upper(F.trim(evt[name]))
    if name == "event_time":
        return event_time_of(evt[name])
    return evt[name]


def typed_events(parsed: DataFrame) -> DataFrame:
    """Lineage, payload, whether the record is unreadable (the typed parse failed somewhere, or a strict
    check of parse.strictly_readable did), and every field typed (normalised)."""
    evt, payload = F.col("evt"), F.col("payload")
    unreadable = _blank(payload) | evt.isNull() | evt[CORRUPT].isNotNull() | ~strictly_readable(payload, evt)
    fields = [_typed(evt, n).alias(n) for n in EVENT_FIELDS]
    return parsed.select(*LINEAGE, "payload", unreadable.alias(_UNREADABLE), *fields)


def _checks(rules: ValidationRules) -> list[tuple[str, Column]]:
    """(reason, failure condition) on the typed fields, in reporting order. A condition is null when the
    field is absent or unreadable, which MISSING_FIELD or BAD_TYPE reports instead."""
    event_us, ingest_us = F.unix_micros(F.col("event_time")), F.unix_micros(F.col("ingest_time"))
    price, quantity = F.col("price"), F.col("quantity")
    return [
        (rc.bad_type("event_id"), ~F.col("event_id").rlike(EVENT_ID_PATTERN)),
        (rc.out_of_range("price"), (price <= 0) | (price > F.lit(rules.max_price))),
        (rc.out_of_range("quantity"), (quantity < 1) | (quantity > rules.max_quantity)),
        (rc.out_of_range("event_time"), event_us > ingest_us + F.lit(round(rules.max_future_skew.seconds * 1e6))),
        (rc.UNKNOWN_SIDE, ~F.col("side").isin(*rules.sides)),
        (rc.UNKNOWN_SYMBOL, ~F.col("symbol").isin(*rules.symbols)),
        (rc.LATE_EVENT, event_us < ingest_us - F.lit(round(rules.watermark.seconds * 1e6))),
    ]


def classify_events(parsed: DataFrame, rules: ValidationRules) -> DataFrame:
    """One row per record: `accepted`, the silver columns and lineage; a rejected record also keeps its
    `payload` and `schema_version` for quarantine_rows (both null on accepted rows, which need neither)."""
    ok = ~F.col(_UNREADABLE)
    for name in rc.REQUIRED_FIELDS:
        ok = ok & F.col(name).isNotNull()
    for _, failed in _checks(rules):
        ok = ok & ~F.coalesce(failed, F.lit(False))
    accepted = F.col(ACCEPTED)
    verdict = typed_events(parsed).select("*", ok.alias(ACCEPTED))
    return verdict.select(
        accepted,
        *SILVER_SCHEMA.fieldNames(),
        F.when(~accepted, F.col("payload")).alias("payload"),
        F.when(~accepted, F.col("schema_version")).alias("schema_version"),
    )


# Columns quarantine_rows adds in steps (dropped again by its last projection).
_SHAPE, _SPECIFIC = "_one_object", "_specific_reasons"


def _token_ok(name: str) -> str:
    return f"_token_ok_{name}"


def _strict_columns() -> list[Column]:
    """The exact checks of a rejected record's payload as columns: one object, and per checked field
    whether its token has the field's type (parse.strict_checks)."""
    one_object, token_ok = strict_checks(F.col("payload"))
    return [one_object.alias(_SHAPE), *[ok.alias(_token_ok(n)) for n, ok in token_ok.items()]]


def _specific_reasons(rules: ValidationRules) -> Column:
    """Every named failed check of a rejected record, over its typed fields, `raw` (parse.with_text_fields)
    and the _strict_columns, unique, in check order (possibly empty)."""
    raw = F.col("raw")
    token_ok = {n: F.col(_token_ok(n)) for n in strict_checks(F.col("payload"))[1]}
    found = [F.when(raw[n].isNull(), F.lit(rc.missing(n))) for n in rc.REQUIRED_FIELDS]
    # Present as text but unreadable as its type (the typed parse left it null), or a token of another
    # JSON type than the field's (a number for a string field, a malformed quoted number).
    found += [
        F.when(
            raw[n].isNotNull() & (F.col(n).isNull() | ~token_ok.get(n, F.lit(True))),
            F.lit(rc.bad_type(n)),
        )
        for n in EVENT_FIELDS
    ]
    found += [F.when(F.coalesce(failed, F.lit(False)), F.lit(code)) for code, failed in _checks(rules)]
    # Unique codes in check order (bad_type(event_id) can come from two checks).
    return F.array_distinct(F.array_compact(F.array(*found)))


def _reasons() -> Column:
    """A rejected record's reasons, never empty: INVALID_UTF8 or MALFORMED_JSON alone, else the specific ones."""
    raw, payload, specific = F.col("raw"), F.col("payload"), F.col(_SPECIFIC)
    malformed = _blank(payload) | raw.isNull() | raw[CORRUPT].isNotNull() | ~F.coalesce(F.col(_SHAPE), F.lit(False))
    return (
        F.when(~valid_utf8(payload), F.array(F.lit(rc.INVALID_UTF8)))
        .when(malformed, F.array(F.lit(rc.MALFORMED_JSON)))
        .when(F.size(specific) == 0, F.array(F.lit(rc.MALFORMED_JSON)))
        .otherwise(specific)
    )


@cache
def _quarantine_steps(rules: ValidationRules) -> tuple[tuple[Column, ...], ...]:
    """quarantine_rows' projections, built once per rules: silver builds them every micro-batch,
    and each PySpark column function is a round trip to the JVM (a class lookup included)."""
    reasons = F.col("reasons")
    final = (
        reasons[0].alias("reason"),
        reasons,
        F.col("payload"),
        F.coalesce(F.col("event_id"), F.col("raw.event_id")).alias("event_id"),
        *[F.col(n) for n in QUARANTINE_SCHEMA.fieldNames() if n not in ("reason", "reasons", "payload", "event_id")],
    )
    return (
        (F.col("*"), *_strict_columns()),
        (F.col("*"), _specific_reasons(rules).alias(_SPECIFIC)),
        (F.col("*"), _reasons().alias("reasons")),
        final,
    )


def quarantine_rows(classified: DataFrame, rules: ValidationRules) -> DataFrame:
    """The quarantine table's rows (schemas.QUARANTINE_SCHEMA) for the rejected records.

    In projections of their own, each evaluated once per row: the exact checks (parse.strict_checks), so
    their variant parse runs once per record, and then the reasons. Written as one expression, the
    checks sat in branches of CASEs, where Spark's subexpression elimination does not look
    (EquivalentExpressions.childrenToRecurse: a CASE's first condition only), so every field's check
    parsed the payload again, and the specific reasons were built twice (a branch's condition and its
    value). Spark keeps the projections apart: CollapseProject does not merge a projection into one
    that would evaluate its non-trivial expressions more than once (the reasons column is read twice by
    the last one, the checks by several CASE branches).
    """
    rows = with_text_fields(classified.filter(~F.col(ACCEPTED)))
    for step in _quarantine_steps(rules):
        rows = rows.select(*step)
    return rows


def trade_rows(classified: DataFrame) -> DataFrame:
    """The silver table's rows (schemas.SILVER_SCHEMA) among classified records."""
    return classified.filter(F.col(ACCEPTED)).select(*SILVER_SCHEMA.fieldNames())


def valid_events(parsed: DataFrame, rules: ValidationRules) -> DataFrame:
    """Silver rows of the records that pass every check (not yet de-duplicated)."""
    return trade_rows(classify_events(parsed, rules))


def quarantine_events(parsed: DataFrame, rules: ValidationRules) -> DataFrame:
    """Quarantine rows for every record classify_events rejects."""
    return quarantine_rows(classify_events(parsed, rules), rules)
