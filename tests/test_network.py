"""The network as the shipped stacks build it: egress only through the firewall in prod, DNS zones
linked wherever they are resolved, the allow-list file and the firewall rules in agreement."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline import topology
from offline.plan import Plan
from stack_config.egress import load_allowlist
from tests.plan_queries import only

ROOT = Path(__file__).resolve().parent.parent
AZ = "azure-native:"


@pytest.fixture(scope="module")
def prod_net(prod_plan: Plan) -> topology.Topology:
    return topology.read(prod_plan)


@pytest.fixture(scope="module")
def dev_net(dev_plan: Plan) -> topology.Topology:
    return topology.read(dev_plan)


def _firewall_ip(net: topology.Topology) -> str:
    ips = [v.firewall_ip for v in net.vnets.values() if v.firewall_ip]
    assert len(ips) == 1, ips
    return str(ips[0])


def test_prod_databricks_subnets_default_route_to_the_firewall(prod_net: topology.Topology) -> None:
    firewall_ip = _firewall_ip(prod_net)
    databricks = [s for v in prod_net.vnets.values() for s in v.subnets if s.databricks]
    assert len(databricks) == 2
    for subnet in databricks:
        assert (subnet.default_route, subnet.route_next_hop_ip) == ("appliance", firewall_ip), subnet.name


def test_prod_no_subnet_reaches_the_internet_around_the_firewall(prod_net: topology.Topology) -> None:
    firewall_ip = _firewall_ip(prod_net)
    for vnet in prod_net.vnets.values():
        for subnet in vnet.subnets:
            assert not subnet.nat, f"{subnet.name} has a NAT gateway"
            if subnet.name == "AzureFirewallSubnet":
                continue  # the firewall itself is the way out
            assert subnet.default_route == "appliance", f"{vnet.key}/{subnet.name} has no route to the firewall"
            assert subnet.route_next_hop_ip == firewall_ip
    spoke = next(v for v in prod_net.vnets.values() if not v.firewall_ip)
    assert spoke.dns_servers == [firewall_ip], "the spoke resolves through the firewall's DNS proxy"


def test_dev_is_a_lone_spoke_with_nat_egress(dev_net: topology.Topology, dev_plan: Plan) -> None:
    assert len(dev_net.vnets) == 1
    assert not dev_plan.of_type(AZ + "network:AzureFirewall")
    (vnet,) = dev_net.vnets.values()
    assert [s.nat for s in vnet.subnets if s.databricks] == [True, True]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_private_dns_zone_is_linked_to_every_vnet_that_resolves_it(
    stack: str, dev_net: topology.Topology, prod_net: topology.Topology
) -> None:
    net = {"dev": dev_net, "prod": prod_net}[stack]
    # Every VNet resolves: the spoke's clients and, in hub-spoke, the hub's DNS proxy on their behalf.
    everyone = set(net.vnets)
    assert net.zone_links
    for zone, linked in net.zone_links.items():
        assert linked == everyone, f"{zone} is linked to {sorted(linked)}, not {sorted(everyone)}"
    assert "privatelink.monitor.azure.com" in net.zone_links


def test_peerings_both_ways_without_gateway_transit(prod_plan: Plan, prod_net: topology.Topology) -> None:
    peerings = prod_plan.of_type(AZ + "network:VirtualNetworkPeering")
    assert len(peerings) == 2
    pairs = {(src, dst) for src, dst, _ in prod_net.peerings}
    hub = next(v.id for v in prod_net.vnets.values() if v.firewall_ip)
    spoke = next(v.id for v in prod_net.vnets.values() if not v.firewall_ip)
    assert pairs == {(spoke, hub), (hub, spoke)}
    forwarded = {(src, dst): f for src, dst, f in prod_net.peerings}
    assert forwarded[(spoke, hub)] is True and forwarded[(hub, spoke)] is False
    for p in peerings:
        assert p.inputs["allowVirtualNetworkAccess"] is True
        assert p.inputs["allowGatewayTransit"] is False and p.inputs["useRemoteGateways"] is False


def test_allowlist_file_and_firewall_rules_agree(prod_plan: Plan) -> None:
    group = only(prod_plan, AZ + "network:FirewallPolicyRuleCollectionGroup")
    rules = {r["name"]: r for c in group.inputs["ruleCollections"] for r in c["rules"]}
    region = load_allowlist().regions["westeurope"]
    mirrors = ["pypi.org", "files.pythonhosted.org", "repo1.maven.org"]  # Pulumi.prod.yaml
    assert rules["scc-relay"]["targetFqdns"] == list(region.scc_relay)
    assert rules["artifact-storage"]["targetFqdns"] == list(region.artifact_storage)
    assert rules["system-tables-storage"]["targetFqdns"] == list(region.system_tables_storage)
    assert rules["log-storage"]["targetFqdns"] == list(region.log_storage)
    assert rules["package-mirrors"]["targetFqdns"] == mirrors
    assert rules["metastore"]["destinationFqdns"] == list(region.metastore)
    assert rules["metastore"]["destinationPorts"] == ["3306"]
    assert rules["event-hubs"]["destinationFqdns"] == list(region.event_hubs)
    assert rules["control-plane"]["destinationAddresses"] == [region.control_plane_service_tag]
    allowed = {
        *region.scc_relay,
        *region.artifact_storage,
        *region.system_tables_storage,
        *region.log_storage,
        *region.metastore,
        *region.event_hubs,
        region.control_plane_service_tag,
        *mirrors,
    }
    in_rules = {
        d
        for r in rules.values()
        for k in ("targetFqdns", "destinationFqdns", "destinationAddresses")
        for d in r.get(k, [])
    }
    assert in_rules == allowed, "a firewall rule allows something the allow-list file does not name (or the reverse)"
    sources = {s for r in rules.values() for s in r["sourceAddresses"]}
    assert sources == {"10.50.4.0/22", "10.50.8.0/22"}, "only the Databricks subnets are sources"


def test_firewall_policy_premium_idps_dns_proxy_and_diagnostics(prod_plan: Plan) -> None:
    policy = only(prod_plan, AZ + "network:FirewallPolicy")
    assert policy.inputs["sku"]["tier"] == "Premium"
    assert policy.inputs["intrusionDetection"]["mode"] == "Deny"
    assert policy.inputs["threatIntelMode"] == "Deny"
    assert policy.inputs["dnsSettings"] == {"enableProxy": True, "requireProxyForNetworkRules": True}
    firewall = only(prod_plan, AZ + "network:AzureFirewall")
    diagnostics = [
        d for d in prod_plan.of_type(AZ + "monitor:DiagnosticSetting") if d.inputs.get("resourceUri") == firewall.id
    ]
    assert diagnostics and diagnostics[0].inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


def test_private_monitoring_flow_logs_and_defender(
    prod_plan: Plan, dev_plan: Plan, prod_net: topology.Topology
) -> None:
    scope = only(prod_plan, AZ + "monitor:PrivateLinkScope")
    assert scope.inputs["accessModeSettings"] == {
        "ingestionAccessMode": "PrivateOnly",
        "queryAccessMode": "PrivateOnly",
    }
    dev_scope = only(dev_plan, AZ + "monitor:PrivateLinkScope")
    assert dev_scope.inputs["accessModeSettings"]["queryAccessMode"] == "Open"  # dev: allowPublicQuery
    assert all(v.flow_logged for v in prod_net.vnets.values())
    for log in prod_plan.of_type(AZ + "network:FlowLog"):
        assert log.inputs["resourceGroupName"] == "NetworkWatcherRG"
        assert log.inputs["flowAnalyticsConfiguration"]["networkWatcherFlowAnalyticsConfiguration"]["enabled"] is True
    plans = {p.inputs["pricingName"]: p.inputs for p in prod_plan.of_type(AZ + "security:Pricing")}
    assert set(plans) == {"StorageAccounts", "KeyVaults", "SqlServers", "Arm"}
    assert plans["StorageAccounts"]["subPlan"] == "DefenderForStorageV2"
    assert not dev_plan.of_type(AZ + "security:Pricing"), "dev shares a subscription; Defender is prod's default"


def test_docs_network_diagram_is_generated_from_the_prod_plan(prod_plan: Plan) -> None:
    doc = (ROOT / "docs" / "network.md").read_text(encoding="utf-8")
    assert topology.updated(doc, topology.render_block(prod_plan)) == doc, (
        "docs/network.md is stale: python -m offline.topology --stack prod --write docs/network.md"
    )
