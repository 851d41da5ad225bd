"""Stack config for the producers (`rta-platform:producer`): seed 002's API poller on Azure Functions.

The API key is never here: only the name of the Key Vault secret that holds it.
Every non-secret knob becomes one `POLLER_*` app setting (`ApiPollerConfig.app_settings`),
read back by `producers/api_poller/settings.py`, so the two sides share the names.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from stack_config.section import Section

# Key Vault secret names: 1-127 letters, digits and dashes.
SecretName = Annotated[str, StringConstraints(pattern=r"^[0-9a-zA-Z-]{1,127}$")]
# An HTTP header name (RFC 9110 token).
HeaderName = Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s/?#]+(/[^\s?#]*)?$")]
# NCRONTAB with seconds (six fields), as the Functions timer trigger reads it.
_NCRONTAB_FIELD = r"[0-9*/,\-]+"
_NCRONTAB = re.compile(rf"^{_NCRONTAB_FIELD}( {_NCRONTAB_FIELD}){{5}}$")


class ApiPollerConfig(Section):
    api_url: HttpsUrl
    # Every minute at second 0 (NCRONTAB: sec min hour day month weekday).
    schedule: str = "0 */1 * * * *"
    auth_header: HeaderName = "X-Api-Key"
    api_key_secret_name: SecretName = "trades-api-key"
    source_name: FieldName = "trades-api"
    # The API's paging contract (producers/api_poller/poller.py).
    cursor_param: FieldName = "since"
    limit_param: FieldName = "limit"
    page_param: FieldName = "page_token"
    items_field: FieldName = "items"
    next_field: FieldName = "next_page_token"
    cursor_field: FieldName = "timestamp"
    # Platform event field -> the API item's field (defaults: the same names, event_time <- timestamp).
    field_map: dict[Literal["event_id", "symbol", "side", "price", "quantity", "event_time"], FieldName] = Field(
        default_factory=dict
    )
    page_size: int = Field(default=500, ge=1, le=10_000)
    max_pages_per_run: int = Field(default=50, ge=1, le=10_000)
    connect_timeout_seconds: float = Field(default=5.0, ge=0.1, le=60)
    read_timeout_seconds: float = Field(default=15.0, ge=0.1, le=300)
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    min_request_interval_seconds: float = Field(default=0.0, ge=0, le=60)
    # Flex Consumption: the maximum instance count is 40-1000 and instance memory 512, 2048 or 4096 MB
    # (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#instance-memory).
    maximum_instance_count: int = Field(default=40, ge=40, le=1000)
    instance_memory_mb: Literal[512, 2048, 4096] = 2048

    @field_validator("schedule")
    @classmethod
    def _ncrontab(cls, value: str) -> str:
        if not _NCRONTAB.match(value):
            raise ValueError(
                f"schedule {value!r} is not a six-field NCRONTAB expression (sec min hour day month weekday)"
            )
        return value

    def app_settings(self) -> dict[str, str]:
        """The non-secret POLLER_* app settings (the key arrives as a Key Vault reference)."""
        settings = {
            "POLLER_SCHEDULE": self.schedule,
            "POLLER_API_URL": self.api_url,
            "POLLER_AUTH_HEADER": self.auth_header,
            "POLLER_SOURCE_NAME": self.source_name,
            "POLLER_CURSOR_PARAM": self.cursor_param,
            "POLLER_LIMIT_PARAM": self.limit_param,
            "POLLER_PAGE_PARAM": self.page_param,
            "POLLER_ITEMS_FIELD": self.items_field,
            "POLLER_NEXT_FIELD": self.next_field,
            "POLLER_CURSOR_FIELD": self.cursor_field,
            "POLLER_PAGE_SIZE": str(self.page_size),
            "POLLER_MAX_PAGES_PER_RUN": str(self.max_pages_per_run),
            "POLLER_CONNECT_TIMEOUT_SECONDS": f"{self.connect_timeout_seconds:g}",
            "POLLER_READ_TIMEOUT_SECONDS": f"{self.read_timeout_seconds:g}",
            "POLLER_MAX_RETRIES": str(self.max_retries),
            "POLLER_BACKOFF_SECONDS": f"{self.backoff_seconds:g}",
            "POLLER_MIN_REQUEST_INTERVAL_SECONDS": f"{self.min_request_interval_seconds:g}",
        }
        settings.update({f"POLLER_FIELD_{k.upper()}": v for k, v in sorted(self.field_map.items())})
        return settings


class ProducerConfig(Section):
    api_poller: ApiPollerConfig
