"""Quarantine reason codes: one vocabulary for the validator, the generator and the tests.

A reason is a short stable code, optionally with the field it concerns
(`MISSING_FIELD:price`), so the quarantine table can be grouped and alerted on
without parsing free text.
"""

from __future__ import annotations

MALFORMED_JSON = "MALFORMED_JSON"
# The payload's bytes are not UTF-8: kept as they are in quarantine, never decoded into U+FFFD.
INVALID_UTF8 = "INVALID_UTF8"
MISSING_FIELD = "MISSING_FIELD"
BAD_TYPE = "BAD_TYPE"
OUT_OF_RANGE = "OUT_OF_RANGE"
UNKNOWN_SIDE = "UNKNOWN_SIDE"
UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
# Arrived at bronze more than the watermark after its event time (see README: late events).
LATE_EVENT = "LATE_EVENT"

# Fields every event must carry, in the order the validator checks them.
REQUIRED_FIELDS: tuple[str, ...] = ("event_id", "symbol", "side", "price", "quantity", "event_time")
# Every field of an event, in schemas.EVENT_FIELDS order (spelled out: this module stays free of PySpark, the
# generator imports it); the validator reports BAD_TYPE for any of them.
EVENT_FIELDS: tuple[str, ...] = (*REQUIRED_FIELDS, "producer_id", "producer_seq", "schema_version")


def missing(field: str) -> str:
    return f"{MISSING_FIELD}:{field}"


def bad_type(field: str) -> str:
    return f"{BAD_TYPE}:{field}"


def out_of_range(field: str) -> str:
    return f"{OUT_OF_RANGE}:{field}"


def all_codes() -> tuple[str, ...]:
    """Every reason the validator can emit (the tests check the generator covers each one it claims)."""
    codes = [INVALID_UTF8, MALFORMED_JSON]
    codes += [missing(f) for f in REQUIRED_FIELDS]
    codes += [bad_type(f) for f in EVENT_FIELDS]
    codes += [out_of_range(f) for f in ("price", "quantity", "event_time")]
    codes += [UNKNOWN_SIDE, UNKNOWN_SYMBOL, LATE_EVENT]
    return tuple(codes)
