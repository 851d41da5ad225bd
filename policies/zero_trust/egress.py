"""Egress and network visibility: the firewall path, flow logs, private monitoring, Defender (NW-08, NW-10..12,
MO-03, GV-03).

The Databricks security reference architecture sends every Databricks subnet's default route to a
firewall that allows only the region's Databricks endpoints (databricks/terraform-databricks-sra,
azure/tf/modules/hub). These policies hold a stack to that shape: the route exists, nothing routes
around it, the firewall policy has no allow-all rule, every VNet has a (virtual network) flow log,
Log Analytics is reachable only through a private link scope, and the Defender plans are on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    UNKNOWN,
    Framework,
    Graph,
    Meta,
    Node,
    Res,
    as_bool,
    as_list,
    dig,
    is_set,
    is_unknown,
    lower,
    mcsb,
    resource_policy,
    stack_policy,
)
from .monitoring import LOG_ANALYTICS
from .network import NSG, SUBNET, VNET
from .private_link import missing_private_endpoints

ROUTE_TABLE = AZ + "network:RouteTable"
ROUTE = AZ + "network:Route"
FLOW_LOG = AZ + "network:FlowLog"
FIREWALL_POLICY = AZ + "network:FirewallPolicy"
RULE_COLLECTION_GROUP = AZ + "network:FirewallPolicyRuleCollectionGroup"
AMPLS = AZ + "monitor:PrivateLinkScope"
SCOPED_RESOURCE = AZ + "monitor:PrivateLinkScopedResource"
PRICING = AZ + "security:Pricing"
SVC = "network"
DATABRICKS_DELEGATION = "microsoft.databricks/workspaces"
# Every spelling of "anywhere" a firewall rule or route can use.
_ANY = {"*", "0.0.0.0/0", "0.0.0.0", "internet", "any", "::/0"}


def _is_databricks_subnet(subnet: Node) -> bool:
    return any(lower(dig(d, "serviceName")) == DATABRICKS_DELEGATION for d in as_list(subnet.get("delegations")))


def _routes(table: Node) -> list[Any]:
    return [r for r in as_list(table.get("routes")) if r is UNKNOWN or isinstance(r, Mapping)]


def _default_route_to_appliance(graph: Graph, table: Node) -> bool:
    """Does the table (inline routes or standalone Route resources) send 0.0.0.0/0 to a virtual appliance?"""
    standalone = [
        r.props for r in graph.of_type(ROUTE) if graph.refers_by_name(r, table, "routeTableName", "routeTableName")
    ]
    for route in [*_routes(table), *standalone]:
        if route is UNKNOWN:
            return True
        prefix = dig(route, "addressPrefix")
        if is_unknown(prefix) or prefix == "0.0.0.0/0":
            hop = lower(dig(route, "nextHopType"))
            if is_unknown(hop) or hop == "virtualappliance":
                return is_set(dig(route, "nextHopIpAddress"))
    return False


@stack_policy(
    Meta(
        name="databricks-egress-through-firewall",
        control="NW-10",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Every subnet delegated to Databricks has a route table whose 0.0.0.0/0 route goes to a virtual "
            "appliance (the hub firewall) with a next-hop address."
        ),
        why=(
            "Cluster nodes run arbitrary user code; without a forced route through the firewall they can send data "
            "to any host on the Internet."
        ),
        remediation=(
            "Attach a network:RouteTable with route {addressPrefix: '0.0.0.0/0', nextHopType: 'VirtualAppliance', "
            "nextHopIpAddress: <firewall private IP>} to the host and container subnets (network.topology hub-spoke)."
        ),
        framework=Framework(
            "Databricks security reference architecture", "azure/tf/modules/hub/firewall.tf", None, "Azure UDR docs"
        ),
    )
)
def egress_through_firewall(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    tables = graph.of_type(ROUTE_TABLE)
    for subnet in graph.of_type(SUBNET):
        if not _is_databricks_subnet(subnet):
            continue
        ref = subnet.get("routeTable.id")
        if not is_set(ref):
            yield subnet.urn, f"Databricks subnet {subnet.name!r} has no route table: its egress bypasses the firewall."
            continue
        mine = [t for t in tables if graph.refers_to(subnet, t, "routeTable", ref)]
        if not mine:
            if not is_unknown(ref):
                yield subnet.urn, f"Databricks subnet {subnet.name!r} uses a route table this stack does not define."
            continue
        if not any(_default_route_to_appliance(graph, t) for t in mine):
            yield (
                subnet.urn,
                f"the route table of Databricks subnet {subnet.name!r} does not send 0.0.0.0/0 to a virtual appliance.",
            )


@resource_policy(
    Meta(
        name="no-internet-route-around-firewall",
        control="NW-11",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "No route sends traffic straight to the Internet (nextHopType Internet) and no subnet egresses through a "
            "NAT gateway, except the firewall's own subnets."
        ),
        why=(
            "A more specific Internet route or a NAT gateway is a second exit that the firewall never sees, so the "
            "allow-list and its logs stop meaning anything."
        ),
        remediation="Remove the Internet route or the subnet's natGateway; send egress to the firewall instead.",
        framework=Framework("Azure Firewall", "forced tunneling / hub-spoke egress", None, "Azure UDR docs"),
    ),
    [ROUTE_TABLE, ROUTE, SUBNET],
)
def no_internet_route(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if r.type == SUBNET:
        name = str(r.get("subnetName") or r.name)
        if name.lower().startswith("azurefirewall"):
            return
        if is_set(r.get("natGateway.id")) or is_unknown(r.get("natGateway")):
            yield f"subnet {name!r} egresses through a NAT gateway, around the firewall."
        return
    routes = [r.props] if r.type == ROUTE else [x for x in as_list(r.get("routes")) if isinstance(x, Mapping)]
    for route in routes:
        if lower(dig(route, "nextHopType")) == "internet":
            prefix = dig(route, "addressPrefix")
            yield f"route {dig(route, 'name', r.name)!r} sends {prefix!r} straight to the Internet."


def _wildcard(values: Any) -> bool:
    return any(isinstance(v, str) and v.strip().lower() in _ANY for v in as_list(values))


@resource_policy(
    Meta(
        name="firewall-policy-default-deny",
        control="NW-12",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Firewall policies deny by default: no Allow rule collection has a rule to any destination ('*', "
            "0.0.0.0/0, Internet) or any FQDN, and threat intelligence is not Off."
        ),
        why=(
            "Azure Firewall denies what no rule allows; one allow-all rule turns the allow-list into an open door and "
            "leaves the deny log empty."
        ),
        remediation=(
            "Replace wildcard destinations with the FQDNs, service tags or addresses the workload needs; set "
            "threatIntelMode to Alert or Deny."
        ),
        framework=mcsb("NS-1", anchors="Azure Firewall rule processing; CIS Azure 'firewall deny by default'"),
    ),
    [FIREWALL_POLICY, RULE_COLLECTION_GROUP],
)
def firewall_default_deny(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if r.type == FIREWALL_POLICY:
        if lower(r.get("threatIntelMode")) == "off":
            yield "threatIntelMode is Off: known-malicious destinations are not even alerted on."
        return
    for collection in as_list(r.get("ruleCollections")):
        if not isinstance(collection, Mapping) or lower(dig(collection, "action.type")) != "allow":
            continue
        for rule in as_list(dig(collection, "rules")):
            if not isinstance(rule, Mapping):
                continue
            targets = [
                *as_list(dig(rule, "destinationAddresses")),
                *as_list(dig(rule, "targetFqdns")),
                *as_list(dig(rule, "destinationFqdns")),
            ]
            if _wildcard(targets) or (not targets and not as_list(dig(rule, "fqdnTags"))):
                yield (f"rule {dig(rule, 'name')!r} in collection {dig(collection, 'name')!r} allows any destination.")


@stack_policy(
    Meta(
        name="vnet-flow-logs",
        control="NW-08",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Every virtual network has an enabled virtual network flow log with retention of at least "
            "minRetentionDays and traffic analytics on; no flow log targets an NSG (NSG flow logs are retired)."
        ),
        why=(
            "Flow logs are the record of who talked to whom; without them an exfiltration or lateral movement leaves "
            "no network trace."
        ),
        remediation=(
            "Add a network:FlowLog with targetResourceId=<VNet id>, enabled=true, retentionPolicy.days >= the minimum "
            "and flowAnalyticsConfiguration.networkWatcherFlowAnalyticsConfiguration.enabled=true."
        ),
        framework=mcsb("LT-4", "v2", "Azure Policy c251913d, 27960feb; CKV_AZURE_12; Trivy AZU-0073"),
        config={
            "minRetentionDays": {
                "type": "integer",
                "minimum": 1,
                "maximum": 365,
                "default": 90,
                "description": "Minimum flow-log retention in days.",
            }
        },
    )
)
def vnet_flow_logs(graph: Graph, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    logs = graph.of_type(FLOW_LOG)
    minimum = int(config["minRetentionDays"])
    for nsg in graph.of_type(NSG):
        for log in logs:
            if graph.refers_to(log, nsg, "targetResourceId", log.get("targetResourceId")):
                yield log.urn, f"flow log {log.name!r} targets NSG {nsg.name!r}; NSG flow logs are retired."
    for vnet in graph.of_type(VNET):
        mine = [g for g in logs if graph.refers_to(g, vnet, "targetResourceId", g.get("targetResourceId"))]
        if not mine:
            yield vnet.urn, f"virtual network {vnet.name!r} has no flow log."
            continue
        for log in mine:
            if as_bool(log.get("enabled")) is False:
                yield log.urn, f"flow log {log.name!r} is disabled."
            days = log.get("retentionPolicy.days")
            if as_bool(log.get("retentionPolicy.enabled")) is not True or (
                not is_unknown(days) and float(days or 0) < minimum
            ):
                yield log.urn, f"flow log {log.name!r} keeps logs for less than {minimum} days."
            analytics = as_bool(log.get("flowAnalyticsConfiguration.networkWatcherFlowAnalyticsConfiguration.enabled"))
            if analytics is not True and not is_unknown(analytics):
                yield log.urn, f"flow log {log.name!r} has no traffic analytics."


@stack_policy(
    Meta(
        name="monitor-private-link-scope",
        control="MO-03",
        service="monitoring",
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Every Log Analytics workspace is in an Azure Monitor private link scope whose ingestion and query access "
            "modes are PrivateOnly, and the scope has a private endpoint (group id 'azuremonitor')."
        ),
        why=(
            "With public query and ingestion closed, the scope is the only way to read or write the logs; Open access "
            "modes let the VNet's clients reach any workspace, including one outside the platform."
        ),
        remediation=(
            "Add a monitor:PrivateLinkScope with accessModeSettings {ingestionAccessMode: PrivateOnly, "
            "queryAccessMode: PrivateOnly}, a PrivateLinkScopedResource for the workspace and a private endpoint."
        ),
        framework=mcsb("NS-2", "v2", "Azure Policy 6c53d030"),
    )
)
def monitor_private_link_scope(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    scopes = graph.of_type(AMPLS)
    links = graph.of_type(SCOPED_RESOURCE)
    for workspace in graph.of_type(LOG_ANALYTICS):
        mine = [
            s
            for s in scopes
            for link in links
            if graph.refers_to(link, workspace, "linkedResourceId", link.get("linkedResourceId"))
            and graph.refers_by_name(link, s, "scopeName", "scopeName")
        ]
        if not mine:
            yield workspace.urn, f"workspace {workspace.name!r} is in no Azure Monitor private link scope."
        for scope in mine:
            for mode in ("ingestionAccessMode", "queryAccessMode"):
                value = scope.get(f"accessModeSettings.{mode}")
                if not is_unknown(value) and lower(value) != "privateonly":
                    yield scope.urn, f"private link scope {scope.name!r} has {mode} {value or 'unset'!r}."
            if missing_private_endpoints(graph, scope, ["azuremonitor"]):
                yield scope.urn, f"private link scope {scope.name!r} has no private endpoint."


DEFAULT_PLANS = ["StorageAccounts", "KeyVaults", "SqlServers", "Arm"]
# The resources whose presence makes a plan necessary (Arm: any resource group the stack manages).
PLAN_SERVICES = {
    "storageaccounts": AZ + "storage:StorageAccount",
    "keyvaults": AZ + "keyvault:Vault",
    "sqlservers": AZ + "sql:Server",
    "arm": AZ + "resources:ResourceGroup",
    "containers": AZ + "containerservice:ManagedCluster",
    "virtualmachines": AZ + "compute:VirtualMachine",
}


@stack_policy(
    Meta(
        name="defender-plans",
        control="GV-03",
        service="governance",
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "A stack that uses a service turns on its Defender for Cloud plan (config plans; default StorageAccounts, "
            "KeyVaults, SqlServers, Arm) at the Standard tier; Storage on DefenderForStorageV2 with on-upload malware "
            "scanning."
        ),
        why=(
            "Defender is the detection layer zero trust assumes: anomalous key reads, SQL injection, malware uploaded "
            "to the landing zone and suspicious management operations raise alerts nobody else does."
        ),
        remediation=(
            "Add a security:Pricing per plan with pricingTier Standard (StorageAccounts: subPlan DefenderForStorageV2 "
            "and the OnUploadMalwareScanning extension enabled)."
        ),
        framework=mcsb("LT-1", anchors="Azure Policy 640d2586, 0e6763cc, 7fe3b40f; CKV_AZURE_84/87/69"),
        config={
            "plans": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_PLANS,
                "description": "Defender plans (pricing names) that must be on.",
            }
        },
    )
)
def defender_plans(graph: Graph, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    pricings = {str(p.get("pricingName") or p.name).lower(): p for p in graph.of_type(PRICING)}
    for plan in config["plans"]:
        users = graph.of_type(PLAN_SERVICES.get(plan.lower(), ""))
        if not users:
            continue
        pricing = pricings.get(plan.lower())
        if pricing is None:
            yield users[0].urn, f"{users[0].name!r} is covered by no Defender plan {plan!r} in this stack."
            continue
        tier = pricing.get("pricingTier")
        if not is_unknown(tier) and lower(tier) != "standard":
            yield pricing.urn, f"Defender plan {plan!r} has pricingTier {tier!r}, not Standard."
        if plan.lower() == "storageaccounts":
            sub_plan = pricing.get("subPlan")
            scanning = [e for e in as_list(pricing.get("extensions")) if dig(e, "name") == "OnUploadMalwareScanning"]
            if not is_unknown(sub_plan) and sub_plan != "DefenderForStorageV2":
                yield pricing.urn, f"Defender for Storage uses sub-plan {sub_plan!r}, not DefenderForStorageV2."
            elif not any(lower(dig(e, "isEnabled")) == "true" for e in scanning):
                yield pricing.urn, "Defender for Storage has on-upload malware scanning off."


POLICIES = [
    egress_through_firewall,
    no_internet_route,
    firewall_default_deny,
    vnet_flow_logs,
    monitor_private_link_scope,
    defender_plans,
]
