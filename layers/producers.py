"""Producers: seed 002's API poller on Azure Functions, sending into the ingestion layer's stream.

Placed right after ingestion, where the data flows: the poller sends to the Event Hubs namespace
(or the Confluent cluster) that layer built, as the platform's `producer` identity, which already
holds the sender grant there (Azure Event Hubs Data Sender on the trades hub, or the Confluent
producer key's two secrets). This layer adds the Function App and everything it needs to be private
and keyless (components/producer.py, docs/producers.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.producer import (
    SITES_GROUP,
    ApiPoller,
    ApiPollerArgs,
    KeyVaultReference,
    PollerSink,
    ProducerIdentity,
    deploy_command,
)
from layers.foundation import Foundation
from layers.ingestion import Ingestion
from layers.placement import Placement
from producers.package import content_hash
from stack_config import StackConfig


@dataclass(frozen=True)
class Producers:
    api_poller: ApiPoller | None
    # The Key Vault secret the API's owner sets (docs/producers.md, "The API key"); its name, never its value.
    api_key_secret_name: str | None = None

    @property
    def outputs(self) -> dict[str, Any]:
        if self.api_poller is None:
            return {}
        return {"apiPollerAppName": self.api_poller.app.name, "apiPollerApiKeySecretName": self.api_key_secret_name}


def poller_sink(config: StackConfig, ingestion: Ingestion) -> tuple[PollerSink, tuple[KeyVaultReference, ...]]:
    """Where the poller sends, and the Key Vault references a Kafka sink needs (Confluent's producer key).

    Event Hubs: the namespace over AMQP with the identity's token (no secret at all). Confluent: the
    producer service account's key pair, as references to the secrets the Confluent component created;
    that component already grants the producer identity Key Vault Secrets User on exactly those two.
    """
    topic = config.ingestion.trades_stream
    if ingestion.event_hubs is not None:
        return PollerSink("eventhubs", topic, eventhubs_namespace=ingestion.event_hubs.fqdn), ()
    if ingestion.confluent is not None:
        confluent = ingestion.confluent
        names = confluent.secret_names["producer"]
        refs = tuple(
            KeyVaultReference(setting, names[part], secret=confluent.secrets[names[part]], granted=True)
            for setting, part in (("POLLER_KAFKA_API_KEY", "key"), ("POLLER_KAFKA_API_SECRET", "secret"))
        )
        return PollerSink("kafka-confluent", topic, kafka_bootstrap=confluent.bootstrap_servers), refs
    raise ValueError("producer needs an ingestion source to send to (eventHubs or confluent)")


def build_producers(
    config: StackConfig, place: Placement, foundation: Foundation, ingestion: Ingestion, source_root: str
) -> Producers:
    if config.producer is None:
        return Producers(None)
    poller = config.producer.api_poller
    naming, net, identities = foundation.naming, foundation.network, foundation.identities
    identity = identities["producer"]
    sink, kafka_refs = poller_sink(config, ingestion)
    app_name = naming.name("func", qualifier="poller", unique=True)
    # Function apps get the `sites` endpoint (app and SCM site); the host storage needs blob only: the
    # host keeps its locks, timer status and keys in blobs, and the cursor and package are blobs too
    # (learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity:
    # "Storage Blob Data Owner ... covers the basic needs of Functions host storage").
    return Producers(
        ApiPoller(
            place.name("api-poller"),
            ApiPollerArgs(
                common=foundation.common,
                diagnostics=foundation.diagnostics,
                private_endpoints=(foundation.endpoint(SITES_GROUP),),
                storage_endpoints=(foundation.endpoint("blob"),),
                app_name=app_name,
                plan_name=naming.name("asp", qualifier="poller"),
                storage_account_name=naming.name("stfn", "storage", unique=True),
                insights_name=naming.name("appi", qualifier="poller"),
                storage_replication="ZRS" if config.is_prod else "LRS",
                integration_subnet_id=net.subnet_id("functions"),
                identity=ProducerIdentity(identity.id, identity.client_id, identity.principal_id),
                workspace_resource_id=foundation.monitoring.workspace_id,
                key_vault=foundation.vault.vault,
                api_key=KeyVaultReference("POLLER_API_KEY", poller.api_key_secret_name),
                sink=sink,
                kafka_key_references=kafka_refs,
                settings=poller.app_settings(),
                maximum_instance_count=poller.maximum_instance_count,
                instance_memory_mb=poller.instance_memory_mb,
                customer_managed_key=foundation.vault.customer_managed_keys.get("producer-storage"),
                package_hash=content_hash(Path(source_root)),
                package_command=deploy_command(foundation.common.resource_group_name, app_name),
            ),
            place.opts(),
        ),
        poller.api_key_secret_name,
    )
