"""Seeds 002 and 003's hot path: Azure Data Explorer (Kusto) fed from Event Hubs, private and Entra-only.

- Public network access disabled; clients reach the cluster through its private endpoint
  (group id `cluster`; zones privatelink.<region>.kusto.windows.net plus blob, queue and table for
  ingestion: https://learn.microsoft.com/azure/data-explorer/security-network-private-endpoint).
- Outbound access restricted (`restrictOutboundNetworkAccess: Enabled`), so the cluster reaches the
  Event Hubs namespace, whose public access is disabled too, only through a managed private
  endpoint (group id `namespace`); that connection is approved on the namespace side, which the
  stack's deploy identity may do (docs/hot-path.md, "First deploy";
  https://learn.microsoft.com/azure/data-explorer/security-network-managed-private-endpoint-create).
- Disk encryption always; double (infrastructure) encryption and a customer-managed key (unwrapped
  by the cluster's user-assigned identity) where configured, prod requires both (config and policy).
  Double encryption can only be set when the cluster is created.
- No local authentication exists on Kusto (Entra ID only), and no external tenant is trusted.
- The schema is applied as one Kusto Script resource per KQL file, in order, each re-run only when
  its content changes (`forceUpdateTag` is the content hash).
- The Event Hubs data connection reads its own consumer group with the cluster's identity, which
  holds Azure Event Hubs Data Receiver on the trades hub (granted by the Event Hubs component).
- Readers are named, not inherited: one database principal assignment per configured Entra group,
  with the least Kusto database role its job needs (https://learn.microsoft.com/kusto/access-control/role-based-access-control):
  Viewer reads the database's data and metadata (the dashboard's readers); Monitor runs `.show`
  commands in the database's context, the "system information" commands operators use to
  investigate ingestion failures, operations and queries
  (https://learn.microsoft.com/kusto/management/system-info), without querying the tables. Nothing
  in the platform reads Kusto as a service identity (Databricks reads Event Hubs, not Kusto; the
  data connection ingests as the cluster), so no identity gets a database role.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import kusto

from components.base import CustomerManagedKeyArgs, PlatformComponent, ServiceArgs

RAW_TABLE = "TradesRaw"
RAW_MAPPING = "TradesRawJson"
# Event system properties the data connection adds to each record (mapped by 10_raw.kql).
EVENT_SYSTEM_PROPERTIES = ("x-opt-enqueued-time",)
CLUSTER_GROUP = "cluster"
# The zones a `cluster` private endpoint registers in: the region's Kusto zone (query and ingestion
# endpoints) plus blob, queue and table for the cluster's ingestion storage. Source: the "Azure Data
# Explorer (Microsoft.Kusto/Clusters) | cluster" row of https://learn.microsoft.com/azure/private-link/private-endpoint-dns
# (MicrosoftDocs/azure-docs articles/private-link/private-endpoint-dns.md); the ADX page says the
# endpoint "comes with several FQDNs for blob / table / queue endpoints (needed for ingestion scenarios)"
# (MicrosoftDocs/dataexplorer-docs data-explorer/security-network-private-endpoint.md).
KUSTO_ZONE_KEY = "kusto"
INGESTION_STORAGE_ZONES = {
    "blob": "privatelink.blob.core.windows.net",
    "queue": "privatelink.queue.core.windows.net",
    "table": "privatelink.table.core.windows.net",
}


def kusto_dns_zone(location: str) -> str:
    """privatelink.{regionName}.kusto.windows.net, the zone of a cluster in `location`."""
    return f"privatelink.{location}.kusto.windows.net"


@dataclass(frozen=True)
class KustoScript:
    name: str  # the KQL file's name
    content: str


@dataclass(frozen=True)
class EventHubSourceArgs:
    namespace_id: pulumi.Input[str]
    hub_id: pulumi.Input[str]
    consumer_group: str
    # The receiver role on the hub, which the data connection needs before it is created.
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class DatabasePrincipalArgs:
    """One Entra principal given one database role; `key` names the assignment (unique per database)."""

    key: str
    principal_id: str  # the Entra object id
    principal_type: kusto.PrincipalType
    role: kusto.DatabasePrincipalRole
    tenant_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class KustoHotPathArgs(ServiceArgs):
    cluster_name: str
    database_name: str
    sku: str
    capacity: int
    zones: Sequence[str]
    identity_id: pulumi.Input[str]
    soft_delete_period: str  # ISO-8601 duration, e.g. P30D
    hot_cache_period: str
    scripts: Sequence[KustoScript]
    source: EventHubSourceArgs
    double_encryption: bool = False
    auto_stop: bool = False
    customer_managed_key: CustomerManagedKeyArgs | None = None
    database_principals: Sequence[DatabasePrincipalArgs] = ()


class KustoHotPath(PlatformComponent):
    """Cluster, database, schema scripts, managed private endpoint to Event Hubs and the data connection."""

    def __init__(self, name: str, args: KustoHotPathArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("KustoHotPath", name, args.common, opts)
        c = args.common
        cmk = args.customer_managed_key
        sku_tier = kusto.AzureSkuTier.BASIC if args.sku.startswith("Dev(") else kusto.AzureSkuTier.STANDARD
        self.cluster = kusto.Cluster(
            f"{name}-cluster",
            cluster_name=args.cluster_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            sku=kusto.AzureSkuArgs(name=args.sku, tier=sku_tier, capacity=args.capacity),
            zones=list(args.zones) or None,
            identity=kusto.IdentityArgs(
                type=kusto.IdentityType.USER_ASSIGNED, user_assigned_identities=[args.identity_id]
            ),
            public_network_access=kusto.PublicNetworkAccess.DISABLED,
            restrict_outbound_network_access=kusto.ClusterNetworkAccessFlag.ENABLED,
            enable_disk_encryption=True,
            enable_double_encryption=args.double_encryption,
            key_vault_properties=kusto.KeyVaultPropertiesArgs(
                key_name=cmk.key_name, key_vault_uri=cmk.key_vault_uri, user_identity=cmk.identity_id
            )
            if cmk
            else None,
            trusted_external_tenants=[],
            enable_auto_stop=args.auto_stop,
            enable_streaming_ingest=False,
            enable_purge=False,
            tags=dict(self.tags),
            opts=self._opts(depends_on=list(cmk.depends_on) if cmk else []),
        )
        self.database = kusto.ReadWriteDatabase(
            f"{name}-db",
            cluster_name=self.cluster.name,
            database_name=args.database_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="ReadWrite",
            soft_delete_period=args.soft_delete_period,
            hot_cache_period=args.hot_cache_period,
            opts=self._opts(depends_on=[self.cluster]),
        )
        self.database_principals = {
            p.key: kusto.DatabasePrincipalAssignment(
                f"{name}-db-{p.key}",
                cluster_name=self.cluster.name,
                database_name=args.database_name,
                resource_group_name=c.resource_group_name,
                principal_assignment_name=p.key,
                principal_id=p.principal_id,
                principal_type=p.principal_type,
                role=p.role,
                tenant_id=p.tenant_id,
                opts=self._opts(depends_on=[self.database]),
            )
            for p in args.database_principals
        }
        self.scripts: list[kusto.Script] = []
        previous: pulumi.Resource = self.database
        for script in args.scripts:
            resource = kusto.Script(
                f"{name}-kql-{script.name.removesuffix('.kql')}",
                cluster_name=self.cluster.name,
                database_name=args.database_name,
                resource_group_name=c.resource_group_name,
                script_name=script.name.removesuffix(".kql").replace("_", "-"),
                script_content=script.content,
                continue_on_errors=False,
                force_update_tag=hashlib.sha256(script.content.encode()).hexdigest()[:32],
                opts=self._opts(depends_on=[previous]),
            )
            self.scripts.append(resource)
            previous = resource
        self.eventhubs_endpoint = kusto.ManagedPrivateEndpoint(
            f"{name}-mpe-eventhubs",
            cluster_name=self.cluster.name,
            resource_group_name=c.resource_group_name,
            managed_private_endpoint_name="eventhubs",
            private_link_resource_id=args.source.namespace_id,
            group_id="namespace",
            request_message="rta-platform hot path: Event Hubs data connection",
            opts=self._opts(depends_on=[self.cluster]),
        )
        self.data_connection = kusto.EventHubDataConnection(
            f"{name}-eventhubs",
            cluster_name=self.cluster.name,
            database_name=args.database_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            data_connection_name="trades",
            kind="EventHub",
            event_hub_resource_id=args.source.hub_id,
            consumer_group=args.source.consumer_group,
            managed_identity_resource_id=args.identity_id,
            table_name=RAW_TABLE,
            mapping_rule_name=RAW_MAPPING,
            # One message, one JSON object (as silver reads it); anything else is a failed ingestion, logged.
            data_format=kusto.EventHubDataFormat.JSON,
            event_system_properties=list(EVENT_SYSTEM_PROPERTIES),
            database_routing=kusto.DatabaseRouting.SINGLE,
            compression=kusto.Compression.NONE,
            # The table and mapping exist (scripts), the endpoint is there and the identity may read the hub.
            opts=self._opts(depends_on=[*self.scripts, self.eventhubs_endpoint, *args.source.depends_on]),
        )
        self.add_diagnostics(name, self.cluster, self.cluster.id, args.diagnostics)
        self.add_private_endpoints(
            name,
            self.cluster,
            self.cluster.id,
            args.private_endpoints,
            lambda e: f"pe-{args.cluster_name}-{e.group_id}",
        )
        self.role_assignments = self.add_role_assignments(
            name, {None: (self.cluster, self.cluster.id)}, args.role_assignments
        )
        self.cluster_uri: pulumi.Output[str] = self.cluster.uri
        self.register_outputs({"cluster_id": self.cluster.id, "cluster_uri": self.cluster_uri})
