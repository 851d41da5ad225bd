"""Foundation: the resource group, monitoring, network, identities and Key Vault every later layer uses.

The network's own translations (hub firewall, spoke, private monitoring, flow logs, Defender) live
beside this layer in `layers/network.py`; this module only calls them in dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import authorization

from components.base import CommonArgs, DiagnosticsArgs, PrivateEndpointArgs, RoleAssignmentArgs
from components.defender import Defender
from components.firewall import HubFirewall
from components.flow_logs import FlowLogs
from components.identities import Identities, IdentitiesArgs, IdentitySpec
from components.key_vault import CmkConsumer, KeyVault, KeyVaultArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.naming import Naming
from components.network import Network
from components.private_monitoring import PrivateMonitoring
from components.resource_group import PlatformResourceGroup, ResourceGroupArgs
from components.roles import BuiltInRole
from layers.network import build_network, build_visibility, visibility_identities
from layers.placement import Placement
from stack_config import IngestionProvider, StackConfig
from stack_config.model import PROJECT


@dataclass(frozen=True)
class Foundation:
    """What every later layer builds on."""

    naming: Naming
    common: CommonArgs
    diagnostics: DiagnosticsArgs
    tenant_id: pulumi.Output[str]
    resource_group: PlatformResourceGroup
    monitoring: Monitoring
    network: Network
    identities: Identities
    vault: KeyVault
    # Present by topology and config (docs/network.md).
    hub: HubFirewall | None = None
    private_monitoring: PrivateMonitoring | None = None
    flow_logs: FlowLogs | None = None
    defender: Defender | None = None

    def endpoint(self, group_id: str, zone_key: str | None = None) -> PrivateEndpointArgs:
        return private_endpoint(self.network, group_id, zone_key)

    @property
    def outputs(self) -> dict[str, Any]:
        return {
            "resourceGroupName": self.resource_group.name,
            "location": self.common.location,
            "logAnalyticsWorkspaceId": self.monitoring.workspace_id,
            "vnetId": self.network.vnet_id,
            **({"deployRunnerVnetIds": self.network.runner_vnet_ids} if self.network.runner_vnet_ids else {}),
            **({"firewallPrivateIp": self.hub.private_ip} if self.hub is not None else {}),
            "keyVaultUri": self.vault.vault_uri,
            "identityClientIds": {k: v.client_id for k, v in self.identities.identities.items()},
        }


def platform_tags(config: StackConfig) -> dict[str, str]:
    return {**config.tags, "environment": config.environment.value, "project": PROJECT, "managedBy": "pulumi"}


def build_foundation(config: StackConfig, place: Placement) -> Foundation:
    naming = Naming.create(
        config.name_prefix,
        config.environment.value,
        config.location,
        PROJECT,
        pulumi.get_stack(),
        config.unique_suffix,
    )
    tags = platform_tags(config)
    client = authorization.get_client_config_output()
    rg = PlatformResourceGroup(
        place.name("platform"),
        ResourceGroupArgs(name=naming.name("rg"), location=config.location, tags=tags, lock=config.lock.enabled),
        place.opts(),
    )
    common = CommonArgs(
        resource_group_name=rg.name, location=config.location, tags=tags, subscription_id=client.subscription_id
    )
    monitoring = Monitoring(
        place.name("monitoring"),
        MonitoringArgs(
            common=common,
            workspace_name=naming.name("log"),
            retention_days=config.monitoring.retention_days,
            daily_quota_gb=config.monitoring.daily_quota_gb,
            allow_public_query=config.monitoring.allow_public_query,
        ),
        place.opts(),
    )
    network_layer = build_network(config, place, naming, common, monitoring)
    net = network_layer.network
    identities = Identities(
        place.name("identities"), IdentitiesArgs(common=common, identities=identity_specs(config, naming)), place.opts()
    )
    vault = KeyVault(
        place.name("keyvault"),
        KeyVaultArgs(
            common=common,
            diagnostics=monitoring.diagnostics,
            private_endpoints=(private_endpoint(net, "vault"),),
            vault_name=naming.name("kv", "keyvault", unique=True),
            tenant_id=client.tenant_id,
            sku=config.key_vault.sku,
            soft_delete_retention_days=config.key_vault.soft_delete_retention_days,
            cmk_consumers=cmk_consumers(config, identities),
            role_assignments=vault_roles(config),
            key_type=config.encryption.key_type,
            key_size=config.encryption.key_size,
            key_rotation=config.encryption.key_rotation,
            key_expiry=config.encryption.key_expiry,
        ),
        place.opts(),
    )
    visibility = build_visibility(config, place, naming, common, monitoring, network_layer, identities, vault)
    return Foundation(
        naming,
        common,
        monitoring.diagnostics,
        client.tenant_id,
        rg,
        monitoring,
        net,
        identities,
        vault,
        hub=network_layer.hub,
        private_monitoring=network_layer.private_monitoring,
        flow_logs=visibility.flow_logs,
        defender=visibility.defender,
    )


def private_endpoint(net: Network, group_id: str, zone_key: str | None = None) -> PrivateEndpointArgs:
    """An endpoint in the shared private-endpoint subnet, in the DNS zone for `zone_key` (default: the group)."""
    return PrivateEndpointArgs(
        subnet_id=net.subnet_id("private-endpoints"),
        private_dns_zone_id=net.dns_zone_id(zone_key or group_id),
        group_id=group_id,
    )


def identity_specs(config: StackConfig, naming: Naming) -> list[IdentitySpec]:
    """One user-assigned identity per job that needs one; the CMK unwrappers only when keys are ours."""
    specs = [
        IdentitySpec("producer", naming.name("id", qualifier="producer"), "sends trading events"),
        IdentitySpec(
            "processor",
            naming.name("id", qualifier="processor"),
            "Databricks access connector: reads streams, writes the lake",
        ),
    ]
    if config.ingestion.provider is IngestionProvider.EVENTHUBS:
        specs.append(
            IdentitySpec("eventhubs", naming.name("id", qualifier="evh"), "Event Hubs namespace: capture and CMK")
        )
    if config.hot_path is not None:
        specs.append(
            IdentitySpec("kusto", naming.name("id", qualifier="kusto"), "Kusto cluster: reads the trades hub, its CMK")
        )
    if config.encryption.customer_managed_keys:
        specs.append(IdentitySpec("lake-cmk", naming.name("id", qualifier="st-cmk"), "unwraps the lake's CMK"))
        if config.sql is not None:
            specs.append(IdentitySpec("sql", naming.name("id", qualifier="sql"), "SQL server: unwraps its TDE CMK"))
        if config.producer is not None:
            # The poller's host storage unwraps its key as its own identity, not as the producer.
            specs.append(
                IdentitySpec("producer-cmk", naming.name("id", qualifier="fn-cmk"), "unwraps the poller storage's CMK")
            )
    return specs + visibility_identities(config, naming)


def cmk_consumers(config: StackConfig, identities: Identities) -> list[CmkConsumer]:
    """Which services get a customer-managed key, and which identity unwraps each."""
    if not config.encryption.customer_managed_keys:
        return []

    def consumer(key: str, identity_key: str) -> CmkConsumer:
        identity = identities[identity_key]
        return CmkConsumer(key, identity.id, identity.client_id, identity.principal_id)

    consumers = [consumer("lake", "lake-cmk")]
    if config.ingestion.provider is IngestionProvider.EVENTHUBS:
        consumers.append(consumer("eventhubs", "eventhubs"))
    if config.sql is not None:
        consumers.append(consumer("sql", "sql"))
    if config.network.flow_logs.enabled:
        consumers.append(consumer("flow-logs", "flow-logs-cmk"))
    if config.producer is not None:
        consumers.append(consumer("producer-storage", "producer-cmk"))
    if config.hot_path is not None:
        # The cluster unwraps its key as its own (only) identity, as the data connection reads with it.
        consumers.append(consumer("kusto", "kusto"))
    if config.databricks is not None:
        # The AzureDatabricks first-party app (no identity of ours) unwraps the workspace's
        # managed-services key; the workspace grants its disk and DBFS identities itself.
        consumers.append(CmkConsumer("databricks", "", "", config.databricks.azure_databricks_app_object_id))
    return consumers


def vault_roles(config: StackConfig) -> list[RoleAssignmentArgs]:
    """The Key Vault-backed secret scope reads secrets as the AzureDatabricks app."""
    if config.databricks is None:
        return []
    return [
        RoleAssignmentArgs(
            principal_id=config.databricks.azure_databricks_app_object_id,
            role=BuiltInRole.KEY_VAULT_SECRETS_USER,
            name="azure-databricks-secret-scope",
            description="AzureDatabricks app: reads secrets for the Key Vault-backed secret scope",
        )
    ]
