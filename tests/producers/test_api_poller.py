"""The API poller against a fake API on localhost: paging, cursor, retries, timeouts, bad payloads."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pytest

from producers.api_poller.client import ApiClient
from producers.api_poller.cursor import CursorError, CursorState, FileCursorStore
from producers.api_poller.mapping import EVENT_ID_NAMESPACE
from producers.api_poller.poller import poll_once
from producers.api_poller.settings import PollerSettings, SettingsError
from producers.sinks import MemorySink, SinkError
from tests.producers.fake_api import FakeTradesApi, serve, trade_items

EVENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.-]{0,127}$")


def settings_for(url: str, **overrides: object) -> PollerSettings:
    env = {
        "POLLER_API_URL": url,
        "POLLER_API_KEY": "test-key",
        "POLLER_SINK": "landing",
        "POLLER_LANDING_DIR": "unused",
        "POLLER_PAGE_SIZE": "4",
        "POLLER_BACKOFF_SECONDS": "0.01",
        "POLLER_BACKOFF_MAX_SECONDS": "2",
        "POLLER_MAX_RETRIES": "3",
        "POLLER_READ_TIMEOUT_SECONDS": "2",
    }
    env.update({f"POLLER_{k.upper()}": str(v) for k, v in overrides.items()})
    return PollerSettings.from_environment(env)


def run(api: FakeTradesApi, tmp_path: Path, sink: MemorySink | None = None, **overrides: object):
    sink = sink or MemorySink()
    with serve(api) as url:
        settings = settings_for(url, **overrides)
        result = poll_once(settings, ApiClient(settings), FileCursorStore(tmp_path / "cursor.json"), sink)
    return result, sink


def test_pages_are_read_mapped_and_sent_in_order(tmp_path: Path) -> None:
    api = FakeTradesApi(trade_items(10))
    result, sink = run(api, tmp_path)
    assert (result.pages, result.sent, result.stopped_by) == (3, 10, "END")
    events = [json.loads(p) for p in sink.payloads]
    assert [e["producer_seq"] for e in events] == list(range(1, 11))
    first = events[0]
    assert first["event_id"] == str(uuid.uuid5(EVENT_ID_NAMESPACE, "trades-api/T00000"))
    assert all(EVENT_ID.match(e["event_id"]) for e in events)
    assert (first["symbol"], first["side"], first["price"], first["quantity"]) == ("AAPL", "BUY", "100.25", 10)
    assert first["event_time"] == "2026-12-05T10:00:00.000Z"
    assert sink.keys[:3] == ["AAPL", "MSFT", "NVDA"]  # the partition key is the symbol
    # The paging contract: the first request has no cursor, later pages carry the token.
    assert "since" not in api.requests[0] and api.requests[1]["page_token"] == ["4"]
    saved = CursorState.from_json((tmp_path / "cursor.json").read_text())
    assert (saved.cursor_value, saved.last_source_id, saved.next_seq) == ("2026-12-05T10:00:09.000Z", "T00009", 11)


def test_a_restart_resumes_from_the_cursor_and_sends_nothing_twice(tmp_path: Path) -> None:
    api = FakeTradesApi(trade_items(10))
    first, sink = run(api, tmp_path, max_pages_per_run=1)
    assert (first.sent, first.stopped_by) == (4, "MAX_PAGES")
    api.items.extend(trade_items(3, start=10))  # new trades arrive between runs
    second, sink = run(api, tmp_path, sink=sink)
    # The API's `since` is inclusive: the item at the cursor comes back and is skipped, not re-sent.
    assert api.requests[1]["since"] == ["2026-12-05T10:00:03.000Z"]
    assert second.duplicates == 1
    ids = [json.loads(p)["event_id"] for p in sink.payloads]
    assert len(ids) == len(set(ids)) == 13
    assert [json.loads(p)["producer_seq"] for p in sink.payloads] == list(range(1, 14))
    third, sink = run(api, tmp_path, sink=sink)  # nothing new
    assert third.sent == 0 and len(sink.payloads) == 13


def test_server_errors_are_retried_with_backoff(tmp_path: Path) -> None:
    api = FakeTradesApi(trade_items(2), faults=[(500, {}, b"oops", 0.0), (502, {}, b"bad gateway", 0.0)])
    result, _ = run(api, tmp_path)
    assert result.sent == 2 and not result.bad_responses
    assert len(api.requests) == 3


def test_rate_limiting_honours_retry_after(tmp_path: Path) -> None:
    api = FakeTradesApi(trade_items(1), faults=[(429, {"Retry-After": "1"}, b"slow down", 0.0)])
    result, _ = run(api, tmp_path)
    assert result.sent == 1
    assert api.times[1] - api.times[0] >= 0.9  # waited as the API asked, not the 10 ms backoff


def test_a_paced_client_keeps_the_request_interval(tmp_path: Path) -> None:
    api = FakeTradesApi(trade_items(9))
    run(api, tmp_path, min_request_interval_seconds=0.2)
    gaps = [b - a for a, b in zip(api.times, api.times[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.18


def test_persistent_errors_stop_the_run_without_moving_the_cursor(tmp_path: Path) -> None:
    api = FakeTradesApi(trade_items(2), faults=[(503, {}, b"down", 0.0)] * 4)
    result, sink = run(api, tmp_path)
    assert result.bad_responses == {"HTTP_STATUS": 1} and result.stopped_by == "ERROR:HTTP_STATUS"
    assert result.sent == 0 and not sink.payloads
    assert not (tmp_path / "cursor.json").exists()
    assert len(api.requests) == 4  # one try and three retries


def test_timeouts_are_retried_then_reported(tmp_path: Path) -> None:
    api = FakeTradesApi(trade_items(1), faults=[(200, {}, b"{}", 1.0)] * 2)
    started = time.monotonic()
    result, _ = run(api, tmp_path, read_timeout_seconds=0.2, max_retries=1)
    assert result.bad_responses == {"TIMEOUT": 1} and result.sent == 0
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "body",
    [b"<html>503</html>", b'{"items": [{"id": "T1"', b"[]", b'{"data": []}', b'{"items": [], "next_page_token": 7}'],
    ids=["html", "truncated", "array", "no-items", "bad-token"],
)
def test_a_malformed_page_is_counted_and_nothing_is_sent(tmp_path: Path, body: bytes) -> None:
    api = FakeTradesApi(trade_items(3), page_override=lambda _page: body)
    result, sink = run(api, tmp_path)
    assert result.bad_responses == {"MALFORMED_BODY": 1}
    assert not sink.payloads and not (tmp_path / "cursor.json").exists()


def test_bad_items_are_counted_by_reason_and_never_sent(tmp_path: Path) -> None:
    items = trade_items(9)
    items[1].pop("symbol")
    items[2]["price"] = "12,5"  # a locale number: never read as 125
    items[3]["quantity"] = 2.5
    items[4]["timestamp"] = "2026-12-05T10:00:04"  # no zone: local time must not be shifted silently
    items[5]["side"] = "HOLD"
    items[6]["price"] = True
    items[7] = "not an object"
    api = FakeTradesApi(items)
    api.items.sort(key=lambda i: i["timestamp"] if isinstance(i, dict) else "")
    api.items = [i for i in api.items if isinstance(i, dict)]
    api.page_override = lambda page: {"items": [*page, "not an object"], "next_page_token": None}
    result, sink = run(api, tmp_path, page_size=50)
    assert result.rejected == {
        "MISSING_FIELD:symbol": 1,
        "BAD_TYPE:price": 2,
        "BAD_TYPE:quantity": 1,
        "UNKNOWN_SIDE": 1,
        "BAD_TYPE:event_time": 1,
        "NOT_AN_OBJECT:str": 1,
    }
    assert result.sent == len({json.loads(p)["event_id"] for p in sink.payloads}) == 2
    assert not any("12,5" in p or '"price":125' in p for p in sink.payloads)
    # The cursor moves past the rejected items too, so they are not fetched and counted again.
    again, _ = run(api, tmp_path, page_size=50)
    assert again.sent == 0 and set(again.rejected) <= {"NOT_AN_OBJECT:str"}


def test_exact_prices_survive_the_poller(tmp_path: Path) -> None:
    item = trade_items(1)[0]
    item["price"] = "PRICE"
    body = json.dumps({"items": [item]}).replace('"PRICE"', "1234567767543.2109").encode()
    api = FakeTradesApi([item], page_override=lambda _page: body)
    _, sink = run(api, tmp_path)
    # A JSON number with more digits than a float holds keeps every digit (as a quoted number).
    assert json.loads(sink.payloads[0])["price"] == "1234567767543.2109"


def test_a_failed_send_keeps_the_cursor_so_the_next_run_resends_the_same_events(tmp_path: Path) -> None:
    class FailingSink(MemorySink):
        def send(self, events):  # type: ignore[no-untyped-def]
            raise SinkError("broker refused")

    api = FakeTradesApi(trade_items(3))
    with pytest.raises(SinkError):
        run(api, tmp_path, sink=FailingSink())
    assert not (tmp_path / "cursor.json").exists()
    result, sink = run(api, tmp_path)
    assert result.sent == 3
    assert json.loads(sink.payloads[0])["event_id"] == str(uuid.uuid5(EVENT_ID_NAMESPACE, "trades-api/T00000"))


def test_a_cursor_advanced_by_another_run_stops_this_one(tmp_path: Path) -> None:
    store = FileCursorStore(tmp_path / "cursor.json")
    store.load()
    FileCursorStore(tmp_path / "cursor.json").save(CursorState("x", "T1", 5))
    with pytest.raises(CursorError, match="another run"):
        store.save(CursorState("y", "T2", 6))


def test_settings_report_every_problem_by_name_and_never_the_key() -> None:
    with pytest.raises(SettingsError) as err:
        PollerSettings.from_environment(
            {
                "POLLER_API_URL": "http://api.example.com/trades",
                "POLLER_API_KEY": "@Microsoft.KeyVault(VaultName=kv;SecretName=api-key)",
                "POLLER_PAGE_SIZE": "lots",
                "POLLER_SINK": "kafka-confluent",
                "POLLER_KAFKA_API_SECRET": "s3cr3t-value",
            }
        )
    message = str(err.value)
    for expected in (
        "POLLER_API_URL 'http://api.example.com/trades' must be https://",
        "POLLER_API_KEY is a Key Vault reference App Service could not resolve",
        "POLLER_PAGE_SIZE 'lots' is not an integer",
        "POLLER_KAFKA_BOOTSTRAP is required",
        "POLLER_KAFKA_API_KEY is required",
    ):
        assert expected in message
    assert "s3cr3t-value" not in message
    assert "test-key" not in repr(settings_for("https://api.example.com/x"))


def test_the_local_command_writes_landing_files_the_pipeline_reads(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from producers.api_poller.__main__ import main

    api = FakeTradesApi(trade_items(5))
    monkeypatch.setenv("POLLER_API_KEY", "test-key")
    with serve(api) as url:
        code = main(["--api-url", url, "--landing", str(tmp_path / "landing"), "--cursor", str(tmp_path / "c.json")])
    assert code == 0
    lines = [
        json.loads(line) for f in sorted((tmp_path / "landing").glob("*.jsonl")) for line in f.read_text().splitlines()
    ]
    assert len(lines) == 5 and {"event_id", "symbol", "side", "price", "quantity", "event_time"} <= set(lines[0])
    assert main(["--api-url", "ftp://nowhere"]) == 2
