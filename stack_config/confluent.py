"""Stack config for the Confluent Cloud ingestion option (`rta-platform:confluent`).

Present only when `ingestion.provider` is `confluent`. Private networking
(a Dedicated cluster on a Confluent Network reached through Azure Private Link)
is the default and the only choice in prod; a public cluster is an explicit,
named dev-only switch (`allowPublicNetworking`).

The Confluent Cloud API credentials are not part of this section: they live in
the provider's own namespace as Pulumi secrets (`confluentcloud:cloudApiKey`,
`confluentcloud:cloudApiSecret`) and are checked by `credential_problems`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from stack_config.section import Section, secret_setting_problems

# The provider's own config namespace; `pulumi config set --secret confluentcloud:cloudApiKey ...`.
CLOUD_API_KEY = "confluentcloud:cloudApiKey"
CLOUD_API_SECRET = "confluentcloud:cloudApiSecret"
CREDENTIAL_KEYS = (CLOUD_API_KEY, CLOUD_API_SECRET)

# Kafka topic names: up to 249 of a-z A-Z 0-9 . _ - (the KafkaTopic docstring).
TopicName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9._-]{1,249}$")]
# Consumer group prefix the processor may use (RBAC prefix binding `group=<prefix>*`).
GroupPrefix = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9._-]{3,200}$")]
DisplayName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}[A-Za-z0-9]$")]
# Name of one API-key generation: suffixes the keys' logical and display names ("2027a").
GenerationName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,19}$")]

# Partition ceiling per topic we accept in config; Confluent's own limits are per cluster.
MAX_PARTITIONS = 2048
# A Dedicated cluster's CKU ceiling accepted here (Confluent sells more through support).
MAX_CKUS = 24


class ClusterType(StrEnum):
    BASIC = "basic"  # public only
    STANDARD = "standard"  # public only
    DEDICATED = "dedicated"  # the smallest type with Network-based Private Link


# Cluster types that cannot sit on a private Confluent Network.
PUBLIC_ONLY_TYPES = (ClusterType.BASIC, ClusterType.STANDARD)


class Availability(StrEnum):
    SINGLE_ZONE = "SINGLE_ZONE"
    MULTI_ZONE = "MULTI_ZONE"


class StreamGovernance(StrEnum):
    ESSENTIALS = "ESSENTIALS"
    ADVANCED = "ADVANCED"


class CleanupPolicy(StrEnum):
    DELETE = "delete"
    COMPACT = "compact"


class TopicConfig(Section):
    name: TopicName
    partitions: int = Field(ge=1, le=MAX_PARTITIONS)
    # Milliseconds; -1 keeps data forever.
    retention_ms: int
    cleanup_policy: CleanupPolicy = CleanupPolicy.DELETE

    @field_validator("retention_ms")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value != -1 and value < 1:
            raise ValueError("must be -1 (keep forever) or a positive number of milliseconds")
        return value


class ClusterConfig(Section):
    type: ClusterType = ClusterType.DEDICATED
    # Confluent Kafka Units; Dedicated only (SINGLE_ZONE >= 1, MULTI_ZONE >= 2).
    ckus: int | None = Field(default=None, ge=1, le=MAX_CKUS)
    availability: Availability = Availability.MULTI_ZONE
    deletion_protection: bool = True


AzureZone = Literal["1", "2", "3"]


class PrivateLinkConfig(Section):
    # Azure availability zones to place a private endpoint for; each maps to one of the
    # Confluent Network's Private Link service aliases (keys "1", "2", "3").
    zones: tuple[AzureZone, ...] = Field(default=("1", "2", "3"), min_length=1)

    @field_validator("zones")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"has duplicates: {list(value)}")
        return value


class ApiKeyConfig(Section):
    """One generation of the service accounts' Kafka API keys (`confluent.apiKeys[]`)."""

    name: GenerationName
    # Rotate-by date (quote it in YAML: "2027-06-30"): the Key Vault secrets carry it as `exp`, and
    # `pulumi preview`/`up` warn from 30 days before it. Confluent keys themselves never expire.
    rotate_by: date


# Two generations live side by side during a rotation, never more (components/confluent_ingestion.py).
MAX_API_KEY_GENERATIONS = 2


class ConfluentConfig(Section):
    """`rta-platform:confluent`: environment, cluster, private link and topics."""

    environment_name: DisplayName | None = None  # default: derived from prefix, env and region
    stream_governance: StreamGovernance = StreamGovernance.ESSENTIALS
    cluster: ClusterConfig = ClusterConfig()
    # Explicit, named insecure convenience (dev only): no Confluent Network, no Private Link;
    # the cluster's endpoints are on the internet. Refused in prod.
    allow_public_networking: bool = False
    private_link: PrivateLinkConfig = PrivateLinkConfig()
    topics: tuple[TopicConfig, ...] = Field(min_length=1)
    processor_consumer_group_prefix: GroupPrefix = "bronze-ingest"
    # Rotate-by date of the stack's original (unnamed) API keys; the Key Vault secrets holding them
    # carry it as `exp` (quote it in YAML: "2027-06-30"). Exactly one of this and `apiKeys`.
    api_key_expiry: date | None = None
    # Named key generations, for rotating with two keys side by side (docs/confluent.md, "Rotating
    # the API keys"). The oldest keeps the original keys' URNs.
    api_keys: tuple[ApiKeyConfig, ...] = Field(default=(), max_length=MAX_API_KEY_GENERATIONS)
    # The generation whose keys the Key Vault secrets hold (what the jobs and the producer read);
    # default: the newest by rotateBy.
    active_api_key: GenerationName | None = None
    # False for the connectivity-only first stage run from outside the network: no topic, and so
    # no call to the cluster's private REST endpoint (docs/confluent.md, "Staged first deploy").
    manage_topics: bool = True

    @model_validator(mode="after")
    def _rules(self) -> ConfluentConfig:
        problems: list[str] = []
        cluster = self.cluster
        names = [t.name for t in self.topics]
        if len(set(names)) != len(names):
            problems.append(f"confluent.topics has duplicate names: {names}")
        if cluster.type in PUBLIC_ONLY_TYPES and not self.allow_public_networking:
            problems.append(
                f"confluent.cluster.type {cluster.type.value!r} has no private networking; use 'dedicated' "
                "(Private Link) or set confluent.allowPublicNetworking: true (dev only)"
            )
        if cluster.type is ClusterType.DEDICATED:
            if cluster.ckus is None:
                problems.append("confluent.cluster.ckus is required with cluster.type 'dedicated'")
            elif cluster.availability is Availability.MULTI_ZONE and cluster.ckus < 2:
                problems.append(
                    f"confluent.cluster.ckus {cluster.ckus} is below 2, the minimum for a MULTI_ZONE dedicated cluster"
                )
        elif cluster.ckus is not None:
            problems.append(
                f"confluent.cluster.ckus is only valid with cluster.type 'dedicated', not {cluster.type.value!r}"
            )
        if cluster.type is ClusterType.BASIC and cluster.availability is not Availability.SINGLE_ZONE:
            problems.append("confluent.cluster.availability must be SINGLE_ZONE with cluster.type 'basic'")
        problems += self._api_key_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _api_key_problems(self) -> list[str]:
        problems: list[str] = []
        names = [k.name for k in self.api_keys]
        if self.api_key_expiry is None and not self.api_keys:
            problems.append(
                "confluent.apiKeyExpiry is required (the original keys' rotate-by date) unless confluent.apiKeys "
                "names the key generations"
            )
        if self.api_key_expiry is not None and self.api_keys:
            problems.append(
                "confluent.apiKeyExpiry and confluent.apiKeys are exclusive: the first generation in apiKeys "
                "takes over the original keys (give it the old apiKeyExpiry as rotateBy)"
            )
        if len(set(names)) != len(names):
            problems.append(f"confluent.apiKeys has duplicate names: {names}")
        dates = [k.rotate_by for k in self.api_keys]
        if len(set(dates)) != len(dates):
            problems.append(
                f"confluent.apiKeys rotateBy dates must differ (they order the generations): "
                f"{[d.isoformat() for d in dates]}"
            )
        if self.active_api_key is not None and self.active_api_key not in names:
            problems.append(
                f"confluent.activeApiKey {self.active_api_key!r} is not one of confluent.apiKeys {names}"
                if names
                else "confluent.activeApiKey needs confluent.apiKeys"
            )
        return problems

    @property
    def private(self) -> bool:
        return not self.allow_public_networking

    def topic(self, name: str) -> TopicConfig:
        return next(t for t in self.topics if t.name == name)


def stack_problems(confluent: ConfluentConfig, *, is_prod: bool, trades_stream: str) -> list[str]:
    """Rules that need the rest of the stack config (environment, ingestion)."""
    problems: list[str] = []
    if trades_stream not in [t.name for t in confluent.topics]:
        problems.append(f"ingestion.tradesStream {trades_stream!r} is not one of confluent.topics")
    if is_prod:
        if confluent.allow_public_networking:
            problems.append("confluent.allowPublicNetworking must be false in prod (Private Link only)")
        if confluent.cluster.availability is not Availability.MULTI_ZONE:
            problems.append("confluent.cluster.availability must be MULTI_ZONE in prod")
        if not confluent.cluster.deletion_protection:
            problems.append("confluent.cluster.deletionProtection must be true in prod")
    return problems


def credential_problems(
    get: Callable[[str], object], is_secret: Callable[[str], bool], stack: str | None = None
) -> list[str]:
    """The Confluent Cloud API key and secret must be set, and set as secrets; each problem names its command."""
    return secret_setting_problems(CREDENTIAL_KEYS, get, is_secret, "ingestion.provider is 'confluent'", stack)
