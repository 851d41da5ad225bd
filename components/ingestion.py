"""The one interface downstream code sees, whichever ingestion option a stack uses.

Event Hubs and Confluent Cloud both end in a Kafka endpoint; the Databricks
jobs take their bootstrap servers, topic and auth mode from a `KafkaSource`
and never ask which service is behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pulumi


class KafkaAuthMode(StrEnum):
    # Event Hubs: OAUTHBEARER with Entra ID, via a Unity Catalog service credential
    # backed by the processor's managed identity. No secret exists anywhere.
    ENTRA_SERVICE_CREDENTIAL = "entra-service-credential"
    # Confluent Cloud: SASL/PLAIN with an API key owned by a service account; key and
    # secret live in Key Vault and reach jobs only through the Key Vault-backed secret scope.
    SASL_PLAIN_SECRET_SCOPE = "sasl-plain-secret-scope"


@dataclass(frozen=True)
class KafkaSource:
    provider: str  # "eventhubs" | "confluent"
    bootstrap_servers: pulumi.Input[str]
    topic: str
    auth_mode: KafkaAuthMode
    # Key Vault secret names holding the API key and secret (SASL_PLAIN_SECRET_SCOPE only).
    api_key_secret_name: str | None = None
    api_secret_secret_name: str | None = None
    # Prefix of the Kafka consumer-group ids the bronze job uses (Spark's `groupIdPrefix`). On
    # Confluent it must match the processor's `group=<prefix>*` role binding; on Event Hubs the
    # Kafka group is created on first use and is not one of the hub's consumer groups.
    consumer_group_prefix: str = "bronze-ingest"
