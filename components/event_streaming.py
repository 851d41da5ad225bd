"""Event Hubs namespace with the Kafka endpoint: Entra ID only, private only.

Local (SAS) auth is disabled, so producers and Spark authenticate with OAuth
(OAUTHBEARER on the Kafka endpoint); there is no connection string to leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import eventhub

from components.base import (
    CustomerManagedKeyArgs,
    PlatformComponent,
    ServiceArgs,
)


@dataclass(frozen=True)
class HubArgs:
    name: str
    partitions: int
    retention_hours: int
    consumer_groups: Sequence[str]


@dataclass(frozen=True)
class CaptureArgs:
    """Avro capture of every hub into the lake's landing container, written with an identity."""

    storage_account_id: pulumi.Input[str]
    container: str
    identity_id: pulumi.Input[str]
    interval_seconds: int = 300
    size_limit_bytes: int = 314572800
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


@dataclass(frozen=True, kw_only=True)
class EventStreamingArgs(ServiceArgs):
    namespace_name: str
    sku: str  # Standard | Premium | Dedicated
    capacity: int
    hubs: Sequence[HubArgs]
    # The namespace's own identity: unwraps its CMK and writes capture files.
    identity_id: pulumi.Input[str]
    zone_redundant: bool = True
    auto_inflate_max_units: int | None = None
    dedicated_cluster_id: str | None = None
    capture: CaptureArgs | None = None
    customer_managed_key: CustomerManagedKeyArgs | None = None


class EventStreaming(PlatformComponent):
    """Namespace, hubs, one consumer group per consumer, optional capture."""

    def __init__(self, name: str, args: EventStreamingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("EventStreaming", name, args.common, opts)
        c = args.common
        cmk = args.customer_managed_key
        dedicated = args.sku == "Dedicated"
        sku_name = eventhub.SkuName.PREMIUM if dedicated else eventhub.SkuName(args.sku)
        waits: list[pulumi.Resource] = list(cmk.depends_on) if cmk else []
        if args.capture:
            waits += list(args.capture.depends_on)
        self.namespace = eventhub.Namespace(
            f"{name}-ehns",
            namespace_name=args.namespace_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            sku=eventhub.SkuArgs(name=sku_name, tier=eventhub.SkuTier(sku_name.value), capacity=args.capacity),
            cluster_arm_id=args.dedicated_cluster_id if dedicated else None,
            is_auto_inflate_enabled=args.auto_inflate_max_units is not None,
            maximum_throughput_units=args.auto_inflate_max_units,
            kafka_enabled=True,
            disable_local_auth=True,
            minimum_tls_version=eventhub.TlsVersion.TLS_VERSION_1_2,
            public_network_access=eventhub.PublicNetworkAccess.DISABLED,
            zone_redundant=args.zone_redundant,
            identity=eventhub.IdentityArgs(
                type=eventhub.ManagedServiceIdentityType.USER_ASSIGNED, user_assigned_identities=[args.identity_id]
            ),
            encryption=eventhub.EncryptionArgs(
                key_source=eventhub.KeySource.MICROSOFT_KEY_VAULT,
                require_infrastructure_encryption=True,
                key_vault_properties=[
                    eventhub.KeyVaultPropertiesArgs(
                        key_name=cmk.key_name,
                        key_vault_uri=cmk.key_vault_uri,
                        identity=eventhub.UserAssignedIdentityPropertiesArgs(user_assigned_identity=cmk.identity_id),
                    )
                ],
            )
            if cmk
            else None,
            tags=dict(self.tags),
            opts=self._opts(depends_on=waits),
        )
        # The namespace's "default" rule set can re-open public access on its own; pin it shut.
        self.network_rule_set = eventhub.NamespaceNetworkRuleSet(
            f"{name}-ehns-netrules",
            namespace_name=self.namespace.name,
            resource_group_name=c.resource_group_name,
            default_action=eventhub.DefaultAction.DENY,
            public_network_access=eventhub.PublicNetworkAccessFlag.DISABLED,
            trusted_service_access_enabled=False,
            opts=self._opts(depends_on=[self.namespace]),
        )
        self.fqdn: str = f"{args.namespace_name}.servicebus.windows.net"
        self.kafka_bootstrap_servers: str = f"{self.fqdn}:9093"

        self.hubs: dict[str, eventhub.EventHub] = {}
        self.consumer_groups: dict[tuple[str, str], eventhub.ConsumerGroup] = {}
        for hub in args.hubs:
            self.hubs[hub.name] = self._hub(name, args, hub)

        self.add_diagnostics(name, self.namespace, self.namespace.id, args.diagnostics)
        self.add_private_endpoints(
            name, self.namespace, self.namespace.id, args.private_endpoints, lambda _: f"pe-{args.namespace_name}"
        )
        scopes: dict[str | None, tuple[pulumi.Resource, pulumi.Input[str]]] = {
            None: (self.namespace, self.namespace.id)
        }
        scopes.update({hub_name: (hub, hub.id) for hub_name, hub in self.hubs.items()})
        created = self.add_role_assignments(name, scopes, args.role_assignments)
        # By the grant's name, for whoever must wait for one (the hot path's data connection waits for its reader).
        self.role_assignments = {a.name: ra for a, ra in zip(args.role_assignments, created, strict=True)}

        self.register_outputs(
            {
                "namespace_id": self.namespace.id,
                "fqdn": self.fqdn,
                "kafka_bootstrap_servers": self.kafka_bootstrap_servers,
                "hubs": list(self.hubs),
            }
        )

    def _hub(self, name: str, args: EventStreamingArgs, hub: HubArgs) -> eventhub.EventHub:
        capture = args.capture
        resource = eventhub.EventHub(
            f"{name}-hub-{hub.name}",
            event_hub_name=hub.name,
            namespace_name=self.namespace.name,
            resource_group_name=args.common.resource_group_name,
            partition_count=hub.partitions,
            retention_description=eventhub.RetentionDescriptionArgs(
                cleanup_policy=eventhub.CleanupPolicyRetentionDescription.DELETE,
                retention_time_in_hours=hub.retention_hours,
            ),
            capture_description=eventhub.CaptureDescriptionArgs(
                enabled=True,
                encoding=eventhub.EncodingCaptureDescription.AVRO,
                interval_in_seconds=capture.interval_seconds,
                size_limit_in_bytes=capture.size_limit_bytes,
                skip_empty_archives=True,
                destination=eventhub.DestinationArgs(
                    name="EventHubArchive.AzureBlockBlob",
                    storage_account_resource_id=capture.storage_account_id,
                    blob_container=capture.container,
                    archive_name_format=(
                        "{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}"
                    ),
                    identity=eventhub.CaptureIdentityArgs(
                        type=eventhub.CaptureIdentityType.USER_ASSIGNED, user_assigned_identity=capture.identity_id
                    ),
                ),
            )
            if capture
            else None,
            opts=self._opts(depends_on=[self.namespace]),
        )
        for group in hub.consumer_groups:
            self.consumer_groups[(hub.name, group)] = eventhub.ConsumerGroup(
                f"{name}-hub-{hub.name}-cg-{group}",
                consumer_group_name=group,
                event_hub_name=resource.name,
                namespace_name=self.namespace.name,
                resource_group_name=args.common.resource_group_name,
                opts=self._opts(depends_on=[resource]),
            )
        return resource
