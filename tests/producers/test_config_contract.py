"""The stack's producer config and the poller's settings speak the same POLLER_* names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from producers.api_poller.settings import PollerSettings
from stack_config.producer import ApiPollerConfig


def test_every_configured_knob_reaches_the_poller() -> None:
    config = ApiPollerConfig.model_validate(
        {
            "apiUrl": "https://api.vendor.test/v2/fills",
            "authHeader": "Authorization-Key",
            "sourceName": "vendor",
            "cursorParam": "after",
            "limitParam": "size",
            "pageParam": "cursor",
            "itemsField": "data",
            "nextField": "next",
            "cursorField": "seq",
            "fieldMap": {"event_time": "executed_at", "event_id": "fill_id"},
            "pageSize": 77,
            "maxPagesPerRun": 9,
            "connectTimeoutSeconds": 1.5,
            "readTimeoutSeconds": 7,
            "maxRetries": 2,
            "backoffSeconds": 0.25,
            "minRequestIntervalSeconds": 0.2,
        }
    )
    env = {**config.app_settings(), "POLLER_API_KEY": "k", "POLLER_EVENTHUBS_NAMESPACE": "evhns"}
    s = PollerSettings.from_environment(env)
    assert (s.api_url, s.auth_header, s.source_name) == (
        "https://api.vendor.test/v2/fills",
        "Authorization-Key",
        "vendor",
    )
    assert (s.cursor_param, s.limit_param, s.page_param) == ("after", "size", "cursor")
    assert (s.items_field, s.next_field, s.cursor_field) == ("data", "next", "seq")
    assert (s.page_size, s.max_pages_per_run, s.max_retries) == (77, 9, 2)
    assert (s.connect_timeout_seconds, s.read_timeout_seconds) == (1.5, 7.0)
    assert (s.backoff_seconds, s.min_request_interval_seconds) == (0.25, 0.2)
    assert s.field_map["event_time"] == "executed_at" and s.field_map["event_id"] == "fill_id"
    assert s.field_map["symbol"] == "symbol"
    # The schedule is the timer binding's (%POLLER_SCHEDULE%), not the poller's.
    assert config.app_settings()["POLLER_SCHEDULE"] == "0 */1 * * * *"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"apiUrl": "http://api.vendor.test/x"}, "apiUrl"),
        ({"schedule": "*/5 * * * *"}, "six-field NCRONTAB"),
        ({"maximumInstanceCount": 10}, "maximumInstanceCount"),
        ({"instanceMemoryMb": 1024}, "instanceMemoryMb"),
        ({"fieldMap": {"price_text": "p"}}, "fieldMap"),
        ({"apiKeySecretName": "has_underscore"}, "apiKeySecretName"),
    ],
)
def test_bad_producer_config_names_the_key(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ApiPollerConfig.model_validate({"apiUrl": "https://api.vendor.test/v1/trades", **changes})
