"""Response items onto the platform's event schema (streaming_jobs/README.md), or a counted reason why not.

The event id is a version-5 UUID of the source name and the item's own id, so the
same item polled twice becomes the same event and silver's de-duplication keeps
one copy. Items that cannot be mapped are never sent: they are counted by reason
and logged with their source id.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from producers.api_poller.settings import PollerSettings

# Namespace of the poller's event ids (uuid5(namespace, "<source>/<item id>")).
EVENT_ID_NAMESPACE = uuid.UUID("0b6a3f1e-5f7c-4d0e-8a51-7d1c2f9e4b30")
SCHEMA_VERSION = 1
SIDES = {"BUY": "BUY", "B": "BUY", "SELL": "SELL", "S": "SELL"}
# The same grammar silver accepts for numbers given as text: no locale separators, no exponents.
_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")
_ZONED_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class MappedEvent:
    """One event ready to send, and where it puts the cursor."""

    payload: str
    partition_key: str
    source_id: str
    cursor_value: Any


@dataclass(frozen=True)
class Rejected:
    source_id: str
    reason: str


def event_id(source_name: str, source_id: str) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{source_name}/{source_id}"))


def map_item(item: Any, settings: PollerSettings, producer_seq: int) -> MappedEvent | Rejected:
    """The platform event for one response item, or the reason it is rejected."""
    if not isinstance(item, Mapping):
        return Rejected("?", f"NOT_AN_OBJECT:{type(item).__name__}")
    fm = settings.field_map
    raw_id = item.get(fm["event_id"])
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or str(raw_id).strip() == "":
        return Rejected("?", "MISSING_FIELD:event_id" if raw_id in (None, "") else "BAD_TYPE:event_id")
    source_id = str(raw_id).strip()

    def reject(reason: str) -> Rejected:
        return Rejected(source_id, reason)

    values: dict[str, Any] = {}
    for name in ("symbol", "side", "price", "quantity", "event_time"):
        value = item.get(fm[name])
        if value is None or (isinstance(value, str) and not value.strip()):
            return reject(f"MISSING_FIELD:{name}")
        values[name] = value
    if not isinstance(values["symbol"], str):
        return reject("BAD_TYPE:symbol")
    side = SIDES.get(str(values["side"]).strip().upper()) if isinstance(values["side"], str) else None
    if side is None:
        return reject("UNKNOWN_SIDE")
    price = _number(values["price"], _DECIMAL_TEXT)
    if price is None:
        return reject("BAD_TYPE:price")
    quantity = _number(values["quantity"], _INTEGER_TEXT)
    if quantity is None or not isinstance(quantity, int):
        return reject("BAD_TYPE:quantity")
    event_time = values["event_time"]
    if not isinstance(event_time, str) or not _ZONED_ISO.match(event_time.strip()) or not _parses(event_time):
        return reject("BAD_TYPE:event_time")
    cursor_value = item.get(settings.cursor_field)
    if cursor_value is None or isinstance(cursor_value, (bool, dict, list)):
        return reject(f"MISSING_FIELD:{settings.cursor_field}")
    symbol = values["symbol"].strip().upper()
    doc = {
        "event_id": event_id(settings.source_name, source_id),
        "symbol": symbol,
        "side": side,
        # Prices keep the exact digits the API sent (as a quoted number); quantities are integers.
        "price": price,
        "quantity": quantity,
        "event_time": event_time.strip(),
        "producer_id": settings.producer_id,
        "producer_seq": producer_seq,
        "schema_version": SCHEMA_VERSION,
    }
    return MappedEvent(json.dumps(doc, separators=(",", ":")), symbol, source_id, cursor_value)


def _number(value: Any, grammar: re.Pattern[str]) -> int | str | None:
    """An integer as int; a decimal as its exact plain text (the client parses JSON numbers as Decimal,
    and silver accepts a quoted number); text only when it matches the strict grammar. Else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and grammar is _DECIMAL_TEXT:
        return format(value, "f")
    if isinstance(value, str) and grammar.match(value.strip()):
        text = value.strip()
        return int(text) if grammar is _INTEGER_TEXT else text
    return None


def _parses(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
