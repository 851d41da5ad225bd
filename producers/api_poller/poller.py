"""One polling run: read pages from the cursor on, send what maps, advance the cursor after each sent page.

The API contract (configurable names, see settings.py): `GET url?since=<cursor>&limit=<n>[&page_token=<t>]`
answers `{"items": [...], "next_page_token": "..."|null}` with items in ascending order of the
cursor field, `since` inclusive. Guarantees:
- at least once: the cursor moves only after the sink accepted the page, so a failed send or a
  crash re-reads that page on the next run;
- no duplicate events: an item at or before the cursor (ties broken by source id) is skipped, and
  every event id is derived from the item's own id, so a re-read item is the same event for silver;
- nothing bad is sent: an item that does not map is counted by reason and logged with its id, and
  a page that is not the contract stops the run (counted, logged) without moving the cursor.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from producers.api_poller.client import ApiClient, PageError
from producers.api_poller.cursor import CursorState, CursorStore
from producers.api_poller.mapping import MappedEvent, Rejected, map_item
from producers.api_poller.settings import PollerSettings
from producers.sinks import EventSink

log = logging.getLogger("rta.api_poller")


@dataclass
class PollResult:
    pages: int = 0
    sent: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    bad_responses: Counter[str] = field(default_factory=Counter)
    stopped_by: str = "END"

    def summary(self) -> str:
        rejected = ", ".join(f"{k}={v}" for k, v in sorted(self.rejected.items())) or "none"
        bad = ", ".join(f"{k}={v}" for k, v in sorted(self.bad_responses.items())) or "none"
        return (
            f"pages={self.pages} sent={self.sent} duplicates={self.duplicates} rejected[{rejected}] "
            f"bad_responses[{bad}] stopped_by={self.stopped_by}"
        )


def poll_once(settings: PollerSettings, client: ApiClient, cursor: CursorStore, sink: EventSink) -> PollResult:
    """Poll until the API has no next page or `max_pages_per_run` pages were read."""
    result = PollResult()
    state = cursor.load()
    # A page token continues the query it came from, so every page of a run asks from the run's start cursor.
    since = state.cursor_value
    token: str | None = None
    for _ in range(settings.max_pages_per_run):
        try:
            page = client.fetch(since, token)
        except PageError as exc:
            result.bad_responses[exc.kind] += 1
            result.stopped_by = f"ERROR:{exc.kind}"
            log.warning("api poller: page not read, cursor kept at %r: %s", state.cursor_value, exc)
            return result
        result.pages += 1
        events, next_state = _page_events(page.items, state, settings, result)
        if events:
            sink.send(events)  # raises if not every event was accepted: the cursor stays where it was
            result.sent += len(events)
        if next_state != state:
            cursor.save(next_state)
            state = next_state
        token = page.next_token
        if token is None:
            result.stopped_by = "END"
            return result
    result.stopped_by = "MAX_PAGES"
    return result


def _page_events(
    items: list[Any], state: CursorState, settings: PollerSettings, result: PollResult
) -> tuple[list[MappedEvent], CursorState]:
    events: list[MappedEvent] = []
    mark = (state.cursor_value, state.last_source_id)
    for item in items:
        mapped = map_item(item, settings, state.next_seq + len(events))
        position = _position(item, settings)
        if position is not None and mark[0] is not None and _order(position) <= _order(mark):
            result.duplicates += 1
            continue
        if isinstance(mapped, Rejected):
            result.rejected[mapped.reason] += 1
            log.warning("api poller: item %s not sent: %s", mapped.source_id, mapped.reason)
        else:
            events.append(mapped)
        if position is not None and (mark[0] is None or _order(position) > _order(mark)):
            mark = position
    next_state = replace(state, cursor_value=mark[0], last_source_id=mark[1], next_seq=state.next_seq + len(events))
    return events, next_state


def _position(item: Any, settings: PollerSettings) -> tuple[Any, str | None] | None:
    """(cursor value, source id) of an item, when it has a usable cursor value."""
    if not isinstance(item, Mapping):
        return None
    value = item.get(settings.cursor_field)
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    raw_id = item.get(settings.field_map["event_id"])
    return value, None if raw_id is None else str(raw_id)


def _order(position: tuple[Any, str | None]) -> tuple[Any, ...]:
    """A total order over cursor positions: numbers numerically, ISO times as instants, other text as text."""
    value, source_id = position
    tie = source_id or ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, Decimal(str(value)), tie)
    text = str(value)
    try:
        return (1, datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp(), tie)
    except ValueError:
        return (2, text, tie)
