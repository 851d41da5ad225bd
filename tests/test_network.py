"""The network as the shipped stacks build it: egress only through the firewall in prod, DNS zones
linked wherever they are resolved, the allow-list file and the firewall rules in agreement."""

from __future__ import annotations

import copy
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import layers.network as network_layer
from components.firewall import _rule_collections
from layers.network import egress_rules, subnet_specs
from offline import policy_runner, topology
from offline.engine import run_stack
from offline.plan import Plan, PlannedResource
from stack_config import ConfigError, StackConfig, egress
from stack_config.egress import AllowlistSource, EgressAllowlist, RegionEgress, load_allowlist
from stack_config.loader import parse_stack_config
from tests.plan_queries import only, raw_stack_config

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


def test_the_firewall_address_is_azure_firewall_subnet_first_usable_and_exported(
    prod_net: topology.Topology, prod_plan: Plan, dev_plan: Plan
) -> None:
    # Azure keeps .0-.3 of a subnet; the firewall takes the first address after them.
    hub = next(v for v in prod_net.vnets.values() if v.firewall_ip)
    (fw_subnet,) = [s for s in hub.subnets if s.name == "AzureFirewallSubnet"]
    assert fw_subnet.prefix == "10.51.0.0/26"  # the hub's first /26 (Pulumi.prod.yaml: 10.51.0.0/24)
    assert prod_plan.outputs["firewallPrivateIp"] == _firewall_ip(prod_net) == "10.51.0.4"
    assert "firewallPrivateIp" not in dev_plan.outputs


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
    stack: str, dev_net: topology.Topology, prod_net: topology.Topology, dev_plan: Plan, prod_plan: Plan
) -> None:
    net = {"dev": dev_net, "prod": prod_net}[stack]
    runners = {"dev": dev_plan, "prod": prod_plan}[stack].outputs["deployRunnerVnetIds"]
    # Every VNet resolves: the spoke's clients, in hub-spoke the hub's DNS proxy on their behalf, and the
    # deploy runners' VNet (network.deployRunner), whose `pulumi up` calls the private data planes.
    everyone = set(net.vnets) | set(runners)
    assert net.zone_links
    for zone, linked in net.zone_links.items():
        assert linked == everyone, f"{zone} is linked to {sorted(linked)}, not {sorted(everyone)}"
    assert "privatelink.monitor.azure.com" in net.zone_links


def test_peerings_both_ways_without_gateway_transit(prod_plan: Plan, prod_net: topology.Topology) -> None:
    peerings = prod_plan.of_type(AZ + "network:VirtualNetworkPeering")
    assert len(peerings) == 4  # spoke <-> hub, spoke <-> deploy runner
    hub = next(v.id for v in prod_net.vnets.values() if v.firewall_ip)
    spoke = next(v.id for v in prod_net.vnets.values() if not v.firewall_ip)
    (runner,) = prod_plan.outputs["deployRunnerVnetIds"]
    forwarded = {(src, dst): f for src, dst, f in prod_net.peerings if src != "?"}
    assert set(forwarded) == {(spoke, hub), (hub, spoke), (spoke, runner)}
    assert forwarded[(spoke, hub)] is True and forwarded[(hub, spoke)] is False
    assert forwarded[(spoke, runner)] is False, "the runner's traffic is its own, nothing forwarded"
    # The reverse direction is declared on the runner's (unplanned) VNet, towards the spoke.
    (back,) = [p for p in peerings if p.name == "network-peer-deploy-runner-back"]
    assert back.inputs["virtualNetworkName"] == runner.rsplit("/", 1)[1]
    assert back.inputs["remoteVirtualNetwork"]["id"] == spoke and back.inputs["allowForwardedTraffic"] is False
    for p in peerings:
        assert p.inputs["allowVirtualNetworkAccess"] is True
        assert p.inputs["allowGatewayTransit"] is False and p.inputs["useRemoteGateways"] is False


def _assert_rules_are_the_region(plan: Plan, region: RegionEgress) -> None:
    """The plan's firewall rules allow exactly `region`'s entries plus prod's package mirrors."""
    group = only(plan, AZ + "network:FirewallPolicyRuleCollectionGroup")
    rules = {r["name"]: r for c in group.inputs["ruleCollections"] for r in c["rules"]}
    mirrors = ["pypi.org", "files.pythonhosted.org", "repo1.maven.org"]  # Pulumi.prod.yaml
    assert rules["scc-relay"]["targetFqdns"] == list(region.scc_relay)
    assert rules["artifact-storage"]["targetFqdns"] == list(region.artifact_storage)
    assert rules["system-tables-storage"]["targetFqdns"] == list(region.system_tables_storage)
    assert rules["log-storage"]["targetFqdns"] == list(region.log_storage)
    assert rules["entra-id"]["targetFqdns"] == list(region.entra_id)
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
        *region.entra_id,
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


def test_allowlist_file_and_firewall_rules_agree(prod_plan: Plan) -> None:
    location = raw_stack_config("prod")["location"]
    _assert_rules_are_the_region(prod_plan, load_allowlist().regions[location])


def test_a_stack_in_another_region_gets_that_regions_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """prod moved to another region takes that region's entry, and nothing of westeurope's.

    The shipped file covers westeurope only (docs/network.md, "Supported regions"), so the test adds a
    stand-in entry for northeurope (an allowed location) to a copy of the file: its hosts are made up
    (`*.fixture.example`) and never leave the test.
    """
    shipped = load_allowlist()
    stand_in = RegionEgress.model_validate(
        {
            **{entry: [f"{entry.lower()}.northeurope.fixture.example"] for entry in RegionEgress.entries()},
            "controlPlaneServiceTag": "AzureDatabricks",
            "sources": {entry: ["fixture"] for entry in RegionEgress.entries()},
        }
    )
    fixture_source = AllowlistSource(title="test stand-in", url="https://fixture.example/", read="2026-12-06")
    allowlist = EgressAllowlist(
        sources={**shipped.sources, "fixture": fixture_source},
        regions={**shipped.regions, "northeurope": stand_in},
    )
    monkeypatch.setattr(egress, "load_allowlist", lambda: allowlist)
    monkeypatch.setattr(network_layer, "load_allowlist", lambda: allowlist)
    plan = run_stack("prod", preview=True, config_overrides={"azure-native:location": "northeurope"})
    _assert_rules_are_the_region(plan, stand_in)
    firewall = only(plan, AZ + "network:AzureFirewall")
    assert firewall.inputs["location"] == "northeurope"


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


# --------------------------------------------------------------------------- the policies hold prod to it

PROD_POLICIES = policy_runner.CONFIG_DIR / "prod.json"


def _mandatory(plan: Plan) -> set[str]:
    """The egress policies' mandatory verdicts under prod.json (only these two: the whole pack costs seconds)."""
    if str(policy_runner.POLICY_DIR) not in sys.path:
        sys.path.insert(0, str(policy_runner.POLICY_DIR))  # the pack's package, as the CLI imports it
    egress = importlib.import_module("zero_trust.egress")
    policies = [egress.egress_through_firewall, egress.no_internet_route]
    levels = json.loads(PROD_POLICIES.read_text(encoding="utf-8"))
    config = {p.meta.name: levels[p.meta.name] for p in policies}
    report = policy_runner.evaluate(plan, config, policies=policies)
    assert report.warnings == [] and report.levels == dict.fromkeys(report.levels, "mandatory")
    return {v.policy for v in report.mandatory}


def _databricks_subnet(plan: Plan) -> PlannedResource:
    return next(s for s in plan.of_type(AZ + "network:Subnet") if s.inputs.get("delegations"))


def _without_firewall_route(plan: Plan) -> None:
    only(plan, AZ + "network:RouteTable").inputs["routes"] = []


def _route_table_detached(plan: Plan) -> None:
    subnet = _databricks_subnet(plan)
    subnet.inputs.pop("routeTable")
    subnet.property_dependencies.pop("routeTable", None)


def _nat_on_a_subnet(plan: Plan) -> None:
    nat = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/natGateways/ng-shortcut"
    _databricks_subnet(plan).inputs["natGateway"] = {"id": nat}


@pytest.mark.parametrize(
    ("mutate", "policy"),
    [
        (_without_firewall_route, "databricks-egress-through-firewall"),
        (_route_table_detached, "databricks-egress-through-firewall"),
        (_nat_on_a_subnet, "no-internet-route-around-firewall"),
    ],
)
def test_prod_policies_refuse_egress_around_the_firewall(prod_plan: Plan, mutate: Any, policy: str) -> None:
    assert _mandatory(prod_plan) == set(), "the shipped prod plan passes every mandatory policy"
    broken = copy.deepcopy(prod_plan)
    mutate(broken)
    assert policy in _mandatory(broken)


def test_hub_spoke_policies_are_mandatory_in_prod() -> None:
    levels = json.loads(PROD_POLICIES.read_text(encoding="utf-8"))
    for name in (
        "databricks-egress-through-firewall",
        "no-internet-route-around-firewall",
        "firewall-policy-default-deny",
        "vnet-flow-logs",
        "monitor-private-link-scope",
        "defender-plans",
    ):
        assert levels[name] == "mandatory", name


# --------------------------------------------------------------------------- the Functions subnet


def _prod_config(api_url: str = "https://api.trades.example.com/v1/trades", **network_changes: Any) -> StackConfig:
    raw = raw_stack_config("prod")
    raw["network"]["subnets"].update(network_changes)
    raw["producer"] = {"apiPoller": {"apiUrl": api_url}}
    return parse_stack_config(raw, "prod")


def test_a_functions_subnet_egresses_through_the_firewall_to_the_poller_api_only() -> None:
    config = _prod_config(functions="10.50.12.0/26")
    specs = {s.key: s for s in subnet_specs(config)}
    assert specs["functions"].delegation == "Microsoft.App/environments" and specs["functions"].needs_egress
    rules = egress_rules(config)
    (poller,) = rules.extra
    assert (poller.name, tuple(poller.source_prefixes), tuple(poller.fqdns)) == (
        "producer-api",
        ("10.50.12.0/26",),
        ("api.trades.example.com",),
    )
    # The Databricks rules stay sourced from the Databricks subnets alone.
    assert tuple(rules.source_prefixes) == ("10.50.4.0/22", "10.50.8.0/22")


@pytest.mark.parametrize(
    ("api_url", "port"), [("https://api.example.com/v1", 443), ("https://api.example.com:8443/v1", 8443)]
)
def test_the_poller_rule_allows_the_port_its_url_names(api_url: str, port: int) -> None:
    rules = egress_rules(_prod_config(api_url, functions="10.50.12.0/26"))
    (application,) = [c for c in _rule_collections(rules) if c.name == "databricks-application"]
    (rule,) = [r for r in application.rules if r.name == "producer-api"]
    assert (rule.target_fqdns, [p.port for p in rule.protocols]) == (["api.example.com"], [port])


FUNCTIONS_PROGRAM = """
from components.base import CommonArgs, DiagnosticsArgs
from components.network import (
    DATABRICKS_DELEGATION, FirewallEgressArgs, Network, NetworkArgs, PeerVnetArgs, SubnetSpec,
)

common = CommonArgs(resource_group_name="rg", location="westeurope", tags={}, subscription_id="sub")
hub = "/subscriptions/sub/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
Network("network", NetworkArgs(
    common=common, diagnostics=DiagnosticsArgs(workspace_id="/law"), vnet_name="vnet-x",
    address_space="10.9.0.0/16",
    subnets=(
        SubnetSpec("private-endpoints", "10.9.0.0/24"),
        SubnetSpec("databricks-host", "10.9.4.0/22", delegation=DATABRICKS_DELEGATION),
        SubnetSpec("functions", "10.9.12.0/26", delegation="Microsoft.App/environments"),
    ),
    dns_zone_keys=("blob",),
    firewall_egress=%s,
))
"""
EGRESS = (
    'FirewallEgressArgs(firewall_private_ip="10.8.0.4", route_table_name="rt-x", '
    'hub=PeerVnetArgs(key="hub", vnet_id=hub, vnet_name="vnet-hub", resource_group_name="rg-hub"))'
)


@pytest.mark.parametrize("egress", [EGRESS, "None"])
def test_every_subnet_that_egresses_leaves_through_the_firewall_or_the_nat(tmp_path: Path, egress: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: contract\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(FUNCTIONS_PROGRAM % egress)
    net = topology.read(run_stack("test", root=tmp_path, preview=False))
    (vnet,) = net.vnets.values()
    subnets = {s.name: s for s in vnet.subnets}
    assert set(subnets) == {"snet-private-endpoints", "snet-databricks-host", "snet-functions"}
    assert (subnets["snet-functions"].databricks, subnets["snet-functions"].delegations) == (
        False,
        ["Microsoft.App/environments"],
    )
    if egress == "None":  # a lone spoke: the subnets with compute leave through the NAT gateway
        assert {n for n, s in subnets.items() if s.nat} == {"snet-databricks-host", "snet-functions"}
        assert all(s.default_route is None for s in subnets.values())
    else:
        for name, subnet in subnets.items():
            assert not subnet.nat, name
            assert (subnet.default_route, subnet.route_next_hop_ip) == ("appliance", "10.8.0.4"), name


EXISTING_HUB_PROGRAM = """
from components.base import CommonArgs, DiagnosticsArgs
from components.firewall import EgressRules, ExistingHubArgs, HubFirewall, HubFirewallArgs
from components.network import (
    DATABRICKS_DELEGATION, FirewallEgressArgs, Network, NetworkArgs, PeerVnetArgs, SubnetSpec,
)

common = CommonArgs(resource_group_name="rg", location="westeurope", tags={}, subscription_id="sub")
diagnostics = DiagnosticsArgs(workspace_id="/law")
rules = EgressRules(
    source_prefixes=["10.9.4.0/22"], scc_relay=["tunnel.example.net"], control_plane_service_tag="AzureDatabricks",
    artifact_storage=["a.blob.core.windows.net"], system_tables_storage=["s.blob.core.windows.net"],
    log_storage=["l.blob.core.windows.net"], metastore=["m.mysql.database.azure.com"],
    event_hubs=["e.servicebus.windows.net"],
)
hub = HubFirewall("hub", HubFirewallArgs(common=common, diagnostics=diagnostics, rules=rules, hub=ExistingHubArgs(
    vnet_id="%(hub_vnet)s", firewall_private_ip="10.8.0.4", firewall_policy_id="%(policy)s")))
Network("network", NetworkArgs(
    common=common, diagnostics=diagnostics, vnet_name="vnet-x", address_space="10.9.0.0/16",
    subnets=(SubnetSpec("databricks-host", "10.9.4.0/22", delegation=DATABRICKS_DELEGATION),),
    dns_zone_keys=("blob",),
    firewall_egress=FirewallEgressArgs(
        firewall_private_ip=hub.private_ip, route_table_name="rt-x", depends_on=(hub,),
        hub=PeerVnetArgs(key="hub", vnet_id=hub.hub_vnet_id, vnet_name=hub.hub_vnet_name,
                         resource_group_name=hub.hub_resource_group)),
))
"""
HUB_VNET = "/subscriptions/sub/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
HUB_POLICY = "/subscriptions/sub/resourceGroups/rg-fw/providers/Microsoft.Network/firewallPolicies/afwp-hub"


def test_an_existing_hub_gets_only_the_rule_group_a_peering_and_the_zone_links(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: contract\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(EXISTING_HUB_PROGRAM % {"hub_vnet": HUB_VNET, "policy": HUB_POLICY})
    plan = run_stack("test", root=tmp_path, preview=False)
    # Nothing of the hub's own is created: no VNet but the spoke, no firewall, no policy.
    assert [v.inputs["virtualNetworkName"] for v in plan.of_type(AZ + "network:VirtualNetwork")] == ["vnet-x"]
    assert not plan.of_type(AZ + "network:AzureFirewall") and not plan.of_type(AZ + "network:FirewallPolicy")
    group = only(plan, AZ + "network:FirewallPolicyRuleCollectionGroup")
    assert (group.inputs["firewallPolicyName"], group.inputs["resourceGroupName"]) == ("afwp-hub", "rg-fw")
    peerings = {p.inputs["virtualNetworkName"]: p.inputs for p in plan.of_type(AZ + "network:VirtualNetworkPeering")}
    assert peerings["vnet-x"]["remoteVirtualNetwork"]["id"] == HUB_VNET
    assert peerings["vnet-hub"]["resourceGroupName"] == "rg-hub"
    net = topology.read(plan)
    (spoke,) = net.vnets.values()
    assert spoke.dns_servers == ["10.8.0.4"]
    assert [(s.default_route, s.route_next_hop_ip) for s in spoke.subnets] == [("appliance", "10.8.0.4")]
    assert net.zone_links["privatelink.blob.core.windows.net"] == {spoke.id, HUB_VNET}


def test_hub_spoke_refuses_a_public_confluent_cluster_it_could_not_reach() -> None:
    raw = raw_stack_config("confluent")
    raw["network"].update(topology="hub-spoke", hub={"addressSpace": "10.61.0.0/24"})
    assert parse_stack_config(raw, "confluent").topology.value == "hub-spoke"  # private: fine
    raw["confluent"].update(allowPublicNetworking=True)
    with pytest.raises(ConfigError) as info:
        parse_stack_config(raw, "confluent")
    assert "confluent.allowPublicNetworking true needs network.topology 'spoke'" in str(info.value)


def test_private_endpoints_in_one_subnet_are_created_one_at_a_time_stack_wide(
    dev_preview_plan: Plan, prod_preview_plan: Plan, confluent_preview_plan: Plan
) -> None:
    # Concurrent endpoint operations in one subnet conflict (components/base.py `endpoints_before`): every
    # component's endpoints in a subnet, Confluent's included, form one chain in registration order.
    for plan in (dev_preview_plan, prod_preview_plan, confluent_preview_plan):
        by_subnet: dict[str, list[PlannedResource]] = {}
        for pe in plan.of_type("azure-native:network:PrivateEndpoint"):
            for subnet in pe.property_dependencies.get("subnet", []):
                by_subnet.setdefault(subnet, []).append(pe)
        assert by_subnet, f"{plan.stack}: no private endpoint names its subnet"
        for subnet, endpoints in by_subnet.items():
            urns = [e.urn for e in endpoints]
            before = {e.urn: [d for d in e.dependencies if d in urns] for e in endpoints}
            assert len(endpoints) > 3, (plan.stack, subnet)
            # In registration order, each endpoint waits for exactly the one registered before it.
            assert [before[u] for u in urns] == [[], *([u] for u in urns[:-1])], (plan.stack, subnet)
