"""The poller's settings, read from app settings (environment variables) and checked in one place.

Every problem is reported at once, naming the setting; a secret's value is never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

# The platform fields a response item maps onto (streaming_jobs/README.md, "Event schema").
PLATFORM_FIELDS = ("event_id", "symbol", "side", "price", "quantity", "event_time")
DEFAULT_FIELD_MAP = {
    "event_id": "id",
    "symbol": "symbol",
    "side": "side",
    "price": "price",
    "quantity": "quantity",
    "event_time": "timestamp",
}
# App Service leaves a Key Vault reference it could not resolve as its literal text
# (https://learn.microsoft.com/azure/app-service/app-service-key-vault-references#troubleshooting-key-vault-references).
UNRESOLVED_REFERENCE = re.compile(r"^@Microsoft\.KeyVault\(", re.IGNORECASE)


class SettingsError(ValueError):
    """One or more settings are missing or invalid; the message lists each by name."""


class SinkKind(StrEnum):
    EVENTHUBS = "eventhubs"
    KAFKA_EVENTHUBS = "kafka-eventhubs"
    KAFKA_CONFLUENT = "kafka-confluent"
    LANDING = "landing"  # local runs only


@dataclass(frozen=True)
class PollerSettings:
    api_url: str
    api_key: str = field(repr=False)
    auth_header: str = "X-Api-Key"
    source_name: str = "trades-api"
    # Query parameters and response fields of the API's paging contract.
    cursor_param: str = "since"
    limit_param: str = "limit"
    page_param: str = "page_token"
    items_field: str = "items"
    next_field: str = "next_page_token"
    cursor_field: str = "timestamp"
    page_size: int = 500
    max_pages_per_run: int = 50
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 15.0
    max_retries: int = 5
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    min_request_interval_seconds: float = 0.0
    field_map: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELD_MAP))
    producer_id: str = "api-poller"
    # Where events go (function: Event Hubs or Kafka; local: a landing directory).
    sink: SinkKind = SinkKind.EVENTHUBS
    eventhubs_namespace: str = ""
    topic: str = "trades"
    kafka_bootstrap: str = ""
    kafka_api_key: str = field(default="", repr=False)
    kafka_api_secret: str = field(default="", repr=False)
    landing_dir: str = ""
    # Where the cursor lives (function: a blob in the host storage account).
    cursor_blob_url: str = ""
    identity_client_id: str = ""

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> PollerSettings:
        """Settings from `POLLER_*` app settings; raises SettingsError naming every problem."""
        problems: list[str] = []

        def text(name: str, default: str | None = None) -> str:
            value = env.get(f"POLLER_{name}", "").strip()
            if not value:
                if default is None:
                    problems.append(f"POLLER_{name} is required")
                return default or ""
            if UNRESOLVED_REFERENCE.match(value):
                problems.append(
                    f"POLLER_{name} is a Key Vault reference App Service could not resolve: check the identity's "
                    "Key Vault Secrets User role, the secret name and the vault's private endpoint"
                )
                return ""
            return value

        def number(name: str, default: float, *, low: float, high: float, integer: bool = False) -> float:
            raw = env.get(f"POLLER_{name}", "").strip()
            if not raw:
                return default
            try:
                value = int(raw) if integer else float(raw)
            except ValueError:
                problems.append(f"POLLER_{name} {raw!r} is not {'an integer' if integer else 'a number'}")
                return default
            if not low <= value <= high:
                problems.append(f"POLLER_{name} {raw} is outside {low:g}..{high:g}")
                return default
            return value

        api_key = text("API_KEY")
        if api_key.startswith("unset:"):
            problems.append(
                "POLLER_API_KEY still holds the placeholder the stack created: set the real key in Key Vault "
                "(docs/producers.md, 'The API key')"
            )
        url = text("API_URL")
        if url and (urlsplit(url).scheme != "https" and not _is_loopback(url)):
            problems.append(f"POLLER_API_URL {url!r} must be https:// (plain http only to localhost for tests)")
        sink_raw = text("SINK", SinkKind.EVENTHUBS.value)
        try:
            sink = SinkKind(sink_raw)
        except ValueError:
            problems.append(f"POLLER_SINK {sink_raw!r} is not one of {[k.value for k in SinkKind]}")
            sink = SinkKind.EVENTHUBS
        field_map = dict(DEFAULT_FIELD_MAP)
        for platform_field in PLATFORM_FIELDS:
            field_map[platform_field] = text(f"FIELD_{platform_field.upper()}", DEFAULT_FIELD_MAP[platform_field])
        settings = cls(
            api_url=url,
            api_key=api_key,
            auth_header=text("AUTH_HEADER", "X-Api-Key"),
            source_name=text("SOURCE_NAME", "trades-api"),
            cursor_param=text("CURSOR_PARAM", "since"),
            limit_param=text("LIMIT_PARAM", "limit"),
            page_param=text("PAGE_PARAM", "page_token"),
            items_field=text("ITEMS_FIELD", "items"),
            next_field=text("NEXT_FIELD", "next_page_token"),
            cursor_field=text("CURSOR_FIELD", "timestamp"),
            page_size=int(number("PAGE_SIZE", 500, low=1, high=10_000, integer=True)),
            max_pages_per_run=int(number("MAX_PAGES_PER_RUN", 50, low=1, high=10_000, integer=True)),
            connect_timeout_seconds=number("CONNECT_TIMEOUT_SECONDS", 5.0, low=0.1, high=60),
            read_timeout_seconds=number("READ_TIMEOUT_SECONDS", 15.0, low=0.1, high=300),
            max_retries=int(number("MAX_RETRIES", 5, low=0, high=20, integer=True)),
            backoff_seconds=number("BACKOFF_SECONDS", 0.5, low=0, high=60),
            backoff_max_seconds=number("BACKOFF_MAX_SECONDS", 30.0, low=0, high=600),
            min_request_interval_seconds=number("MIN_REQUEST_INTERVAL_SECONDS", 0.0, low=0, high=60),
            field_map=field_map,
            producer_id=text("PRODUCER_ID", "api-poller"),
            sink=sink,
            eventhubs_namespace=text("EVENTHUBS_NAMESPACE", None if sink is SinkKind.EVENTHUBS else ""),
            topic=text("TOPIC", "trades"),
            kafka_bootstrap=text("KAFKA_BOOTSTRAP", None if sink is SinkKind.KAFKA_CONFLUENT else ""),
            kafka_api_key=text("KAFKA_API_KEY", None if sink is SinkKind.KAFKA_CONFLUENT else ""),
            kafka_api_secret=text("KAFKA_API_SECRET", None if sink is SinkKind.KAFKA_CONFLUENT else ""),
            landing_dir=text("LANDING_DIR", None if sink is SinkKind.LANDING else ""),
            cursor_blob_url=text("CURSOR_BLOB_URL", ""),
            identity_client_id=text("IDENTITY_CLIENT_ID", ""),
        )
        if sink is SinkKind.KAFKA_EVENTHUBS and not settings.eventhubs_namespace:
            problems.append("POLLER_EVENTHUBS_NAMESPACE is required with POLLER_SINK kafka-eventhubs")
        if problems:
            raise SettingsError("invalid poller settings: " + "; ".join(problems))
        return settings


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
