"""The foundation's network half: config -> Args for the hub firewall, the spoke, private monitoring,
flow logs and Defender (docs/network.md). `layers/foundation.py` calls these in order.

- `build_network`: in `hub-spoke`, the hub (a new hub VNet with Azure Firewall, or an existing hub's
  policy) first, because the spoke's route table and DNS servers name the firewall's private IP; then
  the spoke `Network`; then, with `monitoring.privateLinkScope`, the Azure Monitor private link scope.
- `build_visibility` (after identities and the vault, which it needs): VNet flow logs and Defender plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi

from components.base import CommonArgs, PrivateEndpointArgs
from components.defender import Defender, DefenderArgs
from components.firewall import (
    EgressRule,
    EgressRules,
    ExistingHubArgs,
    HubFirewall,
    HubFirewallArgs,
    NewHubArgs,
    TlsInspectionArgs,
)
from components.flow_logs import FlowLogs, FlowLogsArgs, writer_role
from components.identities import Identities, IdentitySpec
from components.key_vault import KeyVault
from components.kusto_hot_path import INGESTION_STORAGE_ZONES, KUSTO_ZONE_KEY, kusto_dns_zone
from components.monitoring import Monitoring
from components.naming import Naming
from components.network import (
    DATABRICKS_DELEGATION,
    PRIVATE_DNS_ZONES,
    FirewallEgressArgs,
    Network,
    NetworkArgs,
    PeerVnetArgs,
    RunnerNetworkArgs,
    SubnetSpec,
)
from components.private_monitoring import MONITOR_DNS_ZONES, PrivateMonitoring, PrivateMonitoringArgs
from components.producer import SITES_DNS_ZONE, SITES_GROUP
from layers.placement import Placement
from stack_config import StackConfig
from stack_config.egress import load_allowlist
from stack_config.network import Topology

# The delegation a Flex Consumption app's VNet integration subnet needs ("The subnet delegation required by
# Flex Consumption apps is `Microsoft.App/environments`": learn.microsoft.com/azure/azure-functions/
# flex-consumption-plan, Considerations; MicrosoftDocs/azure-docs articles/azure-functions/flex-consumption-plan.md).
FUNCTIONS_DELEGATION = "Microsoft.App/environments"


@dataclass(frozen=True)
class NetworkLayer:
    network: Network
    hub: HubFirewall | None
    private_monitoring: PrivateMonitoring | None


def subnet_specs(config: StackConfig) -> tuple[SubnetSpec, ...]:
    """The spoke's subnets; the Databricks pair and the Functions integration subnet need egress."""
    subnets = config.network.subnets
    specs = [
        SubnetSpec("private-endpoints", subnets.private_endpoints),
        SubnetSpec("databricks-host", subnets.databricks_host, delegation=DATABRICKS_DELEGATION),
        SubnetSpec("databricks-container", subnets.databricks_container, delegation=DATABRICKS_DELEGATION),
    ]
    if subnets.functions is not None:
        specs.append(SubnetSpec("functions", subnets.functions, delegation=FUNCTIONS_DELEGATION))
    return tuple(specs)


def service_dns_zones(config: StackConfig) -> dict[str, str]:
    """Zones only a stack with the service gets: the API poller's `sites` zone; the hot path's regional
    Kusto zone plus the queue and table zones its cluster endpoint registers in (blob is always there)."""
    zones: dict[str, str] = {}
    if config.producer is not None:
        zones[SITES_GROUP] = SITES_DNS_ZONE
    if config.hot_path is not None:
        zones[KUSTO_ZONE_KEY] = kusto_dns_zone(config.location)
        zones.update({k: v for k, v in INGESTION_STORAGE_ZONES.items() if k not in PRIVATE_DNS_ZONES})
    return zones


def egress_rules(config: StackConfig) -> EgressRules:
    """The firewall's allow-list: the region's Databricks entry in stack_config/egress_allowlist.yaml,
    Entra ID sign-in, the configured package mirrors, and the API poller's upstream host."""
    region = load_allowlist().regions[config.location]
    subnets = config.network.subnets
    databricks = (subnets.databricks_host, subnets.databricks_container)
    extra: list[EgressRule] = []
    if config.producer is not None and subnets.functions is not None:
        url = urlsplit(str(config.producer.api_poller.api_url))
        if url.hostname:
            # The URL's own port when it names one: a rule for 443 would not let the poller through.
            extra.append(EgressRule("producer-api", (subnets.functions,), (url.hostname,), url.port or 443))
    return EgressRules(
        source_prefixes=databricks,
        scc_relay=region.scc_relay,
        control_plane_service_tag=region.control_plane_service_tag,
        artifact_storage=region.artifact_storage,
        system_tables_storage=region.system_tables_storage,
        log_storage=region.log_storage,
        metastore=region.metastore,
        event_hubs=region.event_hubs,
        entra_id=region.entra_id,
        package_mirrors=config.network.firewall.package_mirrors,
        extra=tuple(extra),
    )


def build_network(
    config: StackConfig, place: Placement, naming: Naming, common: CommonArgs, monitoring: Monitoring
) -> NetworkLayer:
    hub = _hub(config, place, naming, common, monitoring) if config.topology is Topology.HUB_SPOKE else None
    zone_keys = [k for k in PRIVATE_DNS_ZONES if k not in MONITOR_DNS_ZONES]
    if config.monitoring.private_link_scope:
        zone_keys += list(MONITOR_DNS_ZONES)
    net = Network(
        place.name("network"),
        NetworkArgs(
            common=common,
            diagnostics=monitoring.diagnostics,
            vnet_name=naming.name("vnet"),
            address_space=config.network.address_space,
            subnets=subnet_specs(config),
            dns_zone_keys=tuple(zone_keys),
            extra_dns_zones=service_dns_zones(config),
            runner_networks=runner_networks(config),
            firewall_egress=FirewallEgressArgs(
                firewall_private_ip=hub.private_ip,
                hub=PeerVnetArgs(
                    key="hub",
                    vnet_id=hub.hub_vnet_id,
                    vnet_name=hub.hub_vnet_name,
                    resource_group_name=hub.hub_resource_group,
                ),
                route_table_name=naming.name("rt", qualifier="egress"),
                depends_on=(hub,),
            )
            if hub is not None
            else None,
        ),
        place.opts(),
    )
    private_monitoring = None
    if config.monitoring.private_link_scope:
        private_monitoring = PrivateMonitoring(
            place.name("private-monitoring"),
            PrivateMonitoringArgs(
                common=common,
                scope_name=naming.name("ampls"),
                workspace_id=monitoring.workspace_id,
                workspace=monitoring.workspace,
                subnet_id=net.subnet_id("private-endpoints"),
                dns_zone_ids={k: net.dns_zone_id(k) for k in (*MONITOR_DNS_ZONES, "blob")},
                endpoint_name=naming.name("pe", qualifier="ampls"),
                private_query=not config.monitoring.allow_public_query,
            ),
            place.opts(),
        )
    return NetworkLayer(net, hub, private_monitoring)


def _hub(
    config: StackConfig, place: Placement, naming: Naming, common: CommonArgs, monitoring: Monitoring
) -> HubFirewall:
    hub_config, firewall = config.network.hub, config.network.firewall
    if hub_config is None:  # stack_config refuses hub-spoke without a hub; kept for the type checker
        raise ValueError("network.hub is required when network.topology is 'hub-spoke'")
    tls = firewall.tls_inspection
    hub: NewHubArgs | ExistingHubArgs
    if hub_config.created:
        hub = NewHubArgs(
            vnet_name=naming.name("vnet", qualifier="hub"),
            address_space=str(hub_config.address_space),
            firewall_name=naming.name("afw"),
            policy_name=naming.name("afwp"),
            public_ip_name=naming.name("pip", qualifier="afw"),
            sku_tier=firewall.sku.value,
            idps_mode=firewall.idps.value,
            threat_intel_mode=firewall.threat_intel_mode,
            zones=firewall.zones,
            tls_inspection=TlsInspectionArgs(tls.key_vault_secret_id, tls.identity_id) if tls else None,
        )
    else:
        hub = ExistingHubArgs(
            vnet_id=str(hub_config.vnet_id),
            firewall_private_ip=str(hub_config.firewall_private_ip),
            firewall_policy_id=str(hub_config.firewall_policy_id),
        )
    return HubFirewall(
        place.name("hub"),
        HubFirewallArgs(common=common, diagnostics=monitoring.diagnostics, rules=egress_rules(config), hub=hub),
        place.opts(),
    )


def visibility_identities(config: StackConfig, naming: Naming) -> list[IdentitySpec]:
    """The identity Network Watcher writes flow logs as, and the flow-log account's CMK unwrapper."""
    if not config.network.flow_logs.enabled:
        return []
    specs = [IdentitySpec("flow-logs", naming.name("id", qualifier="flowlogs"), "Network Watcher: writes flow logs")]
    if config.encryption.customer_managed_keys:
        specs.append(IdentitySpec("flow-logs-cmk", naming.name("id", qualifier="fl-cmk"), "unwraps the flow logs' CMK"))
    return specs


@dataclass(frozen=True)
class Visibility:
    flow_logs: FlowLogs | None
    defender: Defender | None


def build_visibility(
    config: StackConfig,
    place: Placement,
    naming: Naming,
    common: CommonArgs,
    monitoring: Monitoring,
    layer: NetworkLayer,
    identities: Identities,
    vault: KeyVault,
) -> Visibility:
    flow_logs = None
    fl = config.network.flow_logs
    if fl.enabled:
        vnets: dict[str, pulumi.Input[str]] = {"spoke": layer.network.vnet_id}
        if layer.hub is not None and layer.hub.hub_vnet is not None:
            vnets["hub"] = layer.hub.hub_vnet.id  # an existing hub's owner logs their own VNet
        writer = identities["flow-logs"]
        flow_logs = FlowLogs(
            place.name("flow-logs"),
            FlowLogsArgs(
                common=common,
                diagnostics=monitoring.diagnostics,
                private_endpoints=(
                    PrivateEndpointArgs(
                        subnet_id=layer.network.subnet_id("private-endpoints"),
                        private_dns_zone_id=layer.network.dns_zone_id("blob"),
                        group_id="blob",
                    ),
                ),
                role_assignments=(writer_role(writer.principal_id),),
                account_name=naming.name("stfl", "storage", unique=True),
                replication=config.data_lake.replication.value,
                target_vnets=vnets,
                network_watcher_name=fl.network_watcher_name or f"NetworkWatcher_{config.location}",
                network_watcher_resource_group=fl.network_watcher_resource_group,
                identity_id=writer.id,
                workspace_resource_id=monitoring.workspace_id,
                workspace_customer_id=monitoring.workspace.customer_id,
                retention_days=fl.retention_days,
                traffic_analytics_interval_minutes=fl.traffic_analytics_interval_minutes,
                customer_managed_key=vault.customer_managed_keys.get("flow-logs"),
                depends_on=tuple(layer.network.subnets.values()),
            ),
            place.opts(),
        )
    defender = None
    if config.defender_enabled:
        defender = Defender(
            place.name("defender"),
            DefenderArgs(
                common=common,
                plans=[p.value for p in config.defender.plans],
                malware_scanning_cap_gb_per_month=config.defender.malware_scanning_cap_gb_per_month,
            ),
            place.opts(),
        )
    return Visibility(flow_logs, defender)


def runner_networks(config: StackConfig) -> tuple[RunnerNetworkArgs, ...]:
    """`network.deployRunner`: the runners' VNet, peered and linked to every private zone (docs/first-deploy.md)."""
    runner = config.network.deploy_runner
    if runner is None:
        return ()
    return (RunnerNetworkArgs(vnet_id=runner.vnet_id, key=runner.key, peer_back=runner.peer_back),)
