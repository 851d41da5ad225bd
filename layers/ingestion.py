"""Ingestion: Event Hubs (Kafka endpoint) or Confluent Cloud, either one handed on as a `KafkaSource`.

Downstream layers take only the `KafkaSource`; which provider produced it is
decided here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.base import RoleAssignmentArgs
from components.confluent_ingestion import (
    ApiKeyGeneration,
    ClusterArgs,
    ConfluentCredentials,
    ConfluentIngestion,
    ConfluentIngestionArgs,
    PrivateLinkArgs,
    SecretStoreArgs,
    TopicArgs,
)
from components.event_streaming import CaptureArgs, EventStreaming, EventStreamingArgs, HubArgs
from components.ingestion import KafkaAuthMode, KafkaSource
from components.roles import BuiltInRole
from layers.foundation import Foundation
from layers.placement import Placement
from layers.processing import Storage
from stack_config import IngestionProvider, StackConfig
from stack_config.confluent import ConfluentConfig
from stack_config.model import EventHubsConfig

# The name of the hot path cluster's receiver grant on the trades hub (its data connection waits for it).
HOT_PATH_READER = "kusto-hot-path"


@dataclass(frozen=True)
class Ingestion:
    """The source the jobs read, and the component behind it (None when the stack has no ingestion)."""

    source: KafkaSource | None
    event_hubs: EventStreaming | None = None
    confluent: ConfluentIngestion | None = None

    @property
    def outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        if self.event_hubs is not None:
            outputs["eventHubsNamespaceFqdn"] = self.event_hubs.fqdn
        if self.confluent is not None:
            outputs["confluentEnvironmentId"] = self.confluent.environment_id
            outputs["confluentClusterId"] = self.confluent.cluster_id
        source = self.source
        if source is not None:
            outputs["kafkaBootstrapServers"] = source.bootstrap_servers
            outputs["kafkaTopic"] = source.topic
            outputs["kafkaAuthMode"] = source.auth_mode.value
            if source.api_key_secret_name is not None:
                # Names of the Key Vault secrets (never their values) the secret scope serves to jobs.
                outputs["kafkaApiKeySecretName"] = source.api_key_secret_name
                outputs["kafkaApiSecretSecretName"] = source.api_secret_secret_name
        return outputs


def confluent_credentials(config: StackConfig) -> ConfluentCredentials | None:
    """The Confluent Cloud API key, from its own config namespace as secrets (`pulumi config set --secret`)."""
    if config.confluent is None or config.ingestion.provider is not IngestionProvider.CONFLUENT:
        return None
    credentials = pulumi.Config("confluentcloud")
    return ConfluentCredentials(
        cloud_api_key=credentials.require_secret("cloudApiKey"),
        cloud_api_secret=credentials.require_secret("cloudApiSecret"),
    )


def build_ingestion(
    config: StackConfig,
    place: Placement,
    foundation: Foundation,
    storage: Storage,
    confluent_credentials: ConfluentCredentials | None,
) -> Ingestion:
    if config.ingestion.provider is IngestionProvider.EVENTHUBS and config.event_hubs is not None:
        hubs = _event_hubs(config, config.event_hubs, config.ingestion.trades_stream, place, foundation, storage)
        source = KafkaSource(
            provider="eventhubs",
            bootstrap_servers=hubs.kafka_bootstrap_servers,
            topic=config.ingestion.trades_stream,
            auth_mode=KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL,
            consumer_group_prefix=config.event_hubs.kafka_consumer_group_prefix,
        )
        return Ingestion(source, event_hubs=hubs)
    if config.confluent is not None:
        if confluent_credentials is None:
            raise ValueError("ingestion.provider confluent needs the Confluent Cloud API credentials")
        confluent = _confluent(config, config.confluent, place, foundation, confluent_credentials)
        return Ingestion(confluent.kafka_source, confluent=confluent)
    return Ingestion(None)


def _event_hubs(
    config: StackConfig, eh: EventHubsConfig, stream: str, place: Placement, foundation: Foundation, storage: Storage
) -> EventStreaming:
    """The namespace, its hubs and capture into the lake; the producer sends and the processor (and the hot
    path's cluster, with `hotPath`) reads one hub."""
    identities, lake = foundation.identities, storage.lake
    readers = (
        [
            RoleAssignmentArgs(
                principal_id=identities["kusto"].principal_id,
                role=BuiltInRole.EVENT_HUBS_DATA_RECEIVER,
                name=HOT_PATH_READER,
                sub_scope=stream,
                description="The hot path's Kusto data connection reads the trades hub only",
            )
        ]
        if config.hot_path is not None
        else []
    )
    return EventStreaming(
        place.name("eventstreaming"),
        EventStreamingArgs(
            common=foundation.common,
            diagnostics=foundation.diagnostics,
            private_endpoints=(foundation.endpoint("namespace"),),
            namespace_name=foundation.naming.name("evhns", "eventhubs", unique=True),
            sku=eh.sku.value,
            capacity=eh.capacity,
            zone_redundant=eh.zone_redundant,
            auto_inflate_max_units=eh.auto_inflate_max_units,
            dedicated_cluster_id=eh.dedicated_cluster_id,
            hubs=[HubArgs(h.name, h.partitions, h.retention_hours, h.consumer_groups) for h in eh.hubs],
            identity_id=identities["eventhubs"].id,
            capture=CaptureArgs(
                storage_account_id=lake.account_id,
                container="landing",
                identity_id=identities["eventhubs"].id,
                interval_seconds=eh.capture.interval_seconds,
                size_limit_bytes=eh.capture.size_limit_bytes,
                depends_on=(*lake.containers.values(), *lake.role_assignments),
            )
            if eh.capture.enabled
            else None,
            customer_managed_key=foundation.vault.customer_managed_keys.get("eventhubs"),
            role_assignments=[
                RoleAssignmentArgs(
                    principal_id=identities["producer"].principal_id,
                    role=BuiltInRole.EVENT_HUBS_DATA_SENDER,
                    name="producer",
                    sub_scope=stream,
                    description="The event producer sends to the trades hub only",
                ),
                RoleAssignmentArgs(
                    principal_id=identities["processor"].principal_id,
                    role=BuiltInRole.EVENT_HUBS_DATA_RECEIVER,
                    name="processor",
                    sub_scope=stream,
                    description="The bronze job reads the trades hub only",
                ),
                *readers,
            ],
        ),
        place.opts(),
    )


def _confluent(
    config: StackConfig,
    cc: ConfluentConfig,
    place: Placement,
    foundation: Foundation,
    credentials: ConfluentCredentials,
) -> ConfluentIngestion:
    """A dedicated cluster over Private Link, its service accounts, and their keys in Key Vault."""
    naming, net, vault = foundation.naming, foundation.network, foundation.vault
    network_name = place.name("network")
    return ConfluentIngestion(
        place.name("confluent"),
        ConfluentIngestionArgs(
            common=foundation.common,
            credentials=credentials,
            environment_display_name=cc.environment_name or naming.name("env"),
            cluster_display_name=naming.name("kafka"),
            network_display_name=naming.name("ccn"),
            stream_governance=cc.stream_governance.value,
            cluster=ClusterArgs(
                type=cc.cluster.type.value,
                availability=cc.cluster.availability.value,
                ckus=cc.cluster.ckus,
                deletion_protection=cc.cluster.deletion_protection,
            ),
            topics=[TopicArgs(t.name, t.partitions, t.retention_ms, t.cleanup_policy.value) for t in cc.topics],
            trades_topic=config.ingestion.trades_stream,
            processor_consumer_group_prefix=cc.processor_consumer_group_prefix,
            service_account_names={
                role: naming.name("sa", qualifier=role, unique=True)
                for role in ("producer", "processor", "topic-manager")
            },
            secrets=SecretStoreArgs(vault_name=vault.vault.name, vault=vault.vault, vault_id=vault.vault_id),
            api_key_expiry=cc.api_key_expiry,
            api_key_generations=[ApiKeyGeneration(k.name, k.rotate_by) for k in cc.api_keys],
            active_api_key_generation=cc.active_api_key,
            manage_topics=cc.manage_topics,
            private_link=PrivateLinkArgs(
                subnet_id=net.subnet_id("private-endpoints"),
                # The zones are the network component's children, like its own zones.
                add_private_dns_zone=lambda key, zone: net.add_private_dns_zone(network_name, key, zone),
                endpoint_name_prefix=naming.name("pe", qualifier="confluent"),
                zones=cc.private_link.zones,
                # Topics wait for every VNet link of the Confluent zone (the platform VNet's, each runner's).
                dns_zone_links=net.dns_zone_links,
            )
            if cc.private
            else None,
            producer_principal_id=foundation.identities["producer"].principal_id,
        ),
        place.opts(),
    )
