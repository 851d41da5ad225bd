"""A scripted REST API on localhost for the poller's tests: pages over a list of items, plus faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# A fault answers one request instead of the normal page: (status, headers, body, delay seconds).
Fault = tuple[int, dict[str, str], bytes, float]


@dataclass
class FakeTradesApi:
    """Items sorted by `timestamp`; `since` is inclusive; pages of `limit` with an opaque offset token."""

    items: list[dict[str, Any]]
    api_key: str = "test-key"
    faults: list[Fault] = field(default_factory=list)  # consumed one per request, before normal answers
    page_override: Callable[[list[dict[str, Any]]], Any] | None = None
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def answer(self, query: dict[str, list[str]], headers: Any) -> Fault:
        self.requests.append(query)
        self.times.append(time.monotonic())
        if self.faults:
            return self.faults.pop(0)
        if headers.get("X-Api-Key") != self.api_key:
            return 401, {}, b'{"error":"unauthorized"}', 0.0
        since = query.get("since", [None])[0]
        limit = int(query.get("limit", ["100"])[0])
        offset = int(query.get("page_token", ["0"])[0])
        matching = [i for i in self.items if since is None or str(i["timestamp"]) >= since]
        page = matching[offset : offset + limit]
        nxt = str(offset + limit) if offset + limit < len(matching) else None
        body = self.page_override(page) if self.page_override else {"items": page, "next_page_token": nxt}
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return 200, {"Content-Type": "application/json"}, raw, 0.0


@contextmanager
def serve(api: FakeTradesApi) -> Iterator[str]:
    """Serve `api` on 127.0.0.1 (an ephemeral port) for the duration of the block; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body, delay = api.answer(parse_qs(urlsplit(self.path).query), self.headers)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out and went away
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/trades"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def trade_items(n: int, start: int = 0) -> list[dict[str, Any]]:
    """n well-formed API items with increasing timestamps."""
    return [
        {
            "id": f"T{i:05d}",
            "symbol": ["aapl", "MSFT", "NVDA"][i % 3],
            "side": ["B", "SELL"][i % 2],
            "price": f"{100 + i}.25",
            "quantity": 10 + i,
            "timestamp": f"2026-12-05T10:{i // 60:02d}:{i % 60:02d}.000Z",
        }
        for i in range(start, start + n)
    ]
