"""The HTTP side of polling: one session with retries, backoff with jitter, timeouts and a request pace.

Retries are urllib3's `Retry` (mounted on a requests `HTTPAdapter`), not a loop
of our own: it retries connection errors, read errors and 429/5xx answers of the
idempotent GET, with exponential backoff plus jitter, and waits as long as a
`Retry-After` header asks (capped by `backoff_max`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from producers.api_poller.settings import PollerSettings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PageError(RuntimeError):
    """A page could not be read (HTTP failure after retries, or a body that is not the paging contract)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_token: str | None


def make_session(settings: PollerSettings) -> requests.Session:
    retry = Retry(
        total=settings.max_retries,
        connect=settings.max_retries,
        read=settings.max_retries,
        status=settings.max_retries,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        backoff_factor=settings.backoff_seconds,
        backoff_max=settings.backoff_max_seconds,
        backoff_jitter=settings.backoff_seconds,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer comes back and is reported as an HTTP error
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = "rta-platform-api-poller"
    session.headers[settings.auth_header] = settings.api_key
    return session


def _timed_out(exc: requests.RequestException) -> bool:
    """A timeout, also when urllib3 gave up retrying one (requests then raises ConnectionError(MaxRetryError))."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (TimeoutError, urllib3_exceptions.TimeoutError))


class ApiClient:
    """Reads pages of the API's paging contract: items plus a token for the next page."""

    def __init__(self, settings: PollerSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or make_session(settings)
        self._last_request = 0.0
        self.requests_made = 0

    def fetch(self, cursor: Any, page_token: str | None) -> Page:
        s = self.settings
        params: dict[str, Any] = {s.limit_param: s.page_size}
        if cursor is not None:
            params[s.cursor_param] = cursor
        if page_token:
            params[s.page_param] = page_token
        self._pace()
        try:
            response = self.session.get(
                s.api_url, params=params, timeout=(s.connect_timeout_seconds, s.read_timeout_seconds)
            )
        except requests.RequestException as exc:
            if _timed_out(exc):
                raise PageError("TIMEOUT", f"{s.api_url} did not answer in time, retries included") from exc
            raise PageError("CONNECTION", f"{s.api_url}: {type(exc).__name__}: {exc}") from exc
        finally:
            self.requests_made += 1
        if response.status_code != 200:
            raise PageError("HTTP_STATUS", f"{s.api_url} answered {response.status_code} after retries")
        return self._page(response)

    def _page(self, response: requests.Response) -> Page:
        s = self.settings
        try:
            body = json.loads(response.content.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PageError("MALFORMED_BODY", f"the response is not a JSON document ({exc})") from exc
        if not isinstance(body, dict):
            raise PageError("MALFORMED_BODY", f"the response is a JSON {type(body).__name__}, not an object")
        items = body.get(s.items_field)
        if not isinstance(items, list):
            raise PageError("MALFORMED_BODY", f"the response has no {s.items_field!r} array")
        token = body.get(s.next_field)
        if token is not None and not isinstance(token, str):
            raise PageError("MALFORMED_BODY", f"{s.next_field!r} is not a string")
        return Page(items, token or None)

    def _pace(self) -> None:
        """At most one request per `min_request_interval_seconds` (the API's published rate limit)."""
        wait = self._last_request + self.settings.min_request_interval_seconds - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()

    def close(self) -> None:
        self.session.close()
