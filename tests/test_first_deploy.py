"""What a real first `pulumi up` needs that the mock engine does not enforce (#31 known cases).

Each test pins one apply-time fact (cited where the code relies on it) on the recorded plans.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offline.engine import StackProgramError, run_stack
from offline.plan import Plan
from tests.builtin_roles import CRYPTO_USER
from tests.plan_queries import ROLE, job_params, only, raw_stack_config

SLEEP = "time:index/sleep:Sleep"
KEY = "azure-native:keyvault:Key"


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)([smh])", duration)
    assert match, duration
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


# --------------------------------------------------------------------------- case 8: RBAC propagation


def test_every_cmk_consumer_waits_for_its_key_grant_to_propagate(prod_plan: Plan) -> None:
    sleep = only(prod_plan, SLEEP)
    # Key Vault: "up to 10 minutes (600 seconds) after role assignments is changed for role to be applied".
    assert _seconds(sleep.inputs["createDuration"]) >= 600
    key_ids = {k.id for k in prod_plan.of_type(KEY)}
    key_grants = [
        ra
        for ra in prod_plan.of_type(ROLE)
        if ra.inputs["scope"] in key_ids
        and ra.inputs["roleDefinitionId"].endswith(CRYPTO_USER)
        and ra.parent == sleep.parent
    ]
    # lake, flow logs (docs/network.md), Event Hubs, SQL, Databricks
    assert len(key_grants) == len(key_ids) == 5
    assert {g.urn for g in key_grants} <= set(sleep.dependencies)
    # A changed grant waits again.
    assert set(sleep.inputs["triggers"].values()) == {g.id for g in key_grants}

    consumers = [
        *prod_plan.of_type("azure-native:storage:StorageAccount"),
        only(prod_plan, "azure-native:eventhub:Namespace"),
        only(prod_plan, "azure-native:sql:ServerKey"),
        only(prod_plan, "azure-native:databricks:Workspace"),
    ]
    for consumer in consumers:
        assert sleep.urn in consumer.dependencies, f"{consumer.name} uses its key before the grant propagated"


def test_dev_without_customer_managed_keys_does_not_wait(dev_plan: Plan) -> None:
    assert not dev_plan.of_type(SLEEP)


# --------------------------------------------------------------------------- case 12: documented behaviour


def _job_parameters(plan: Plan, job_key: str) -> dict[str, str]:
    job = next(j for j in plan.of_type("databricks:index/job:Job") if j.name.endswith(f"-{job_key}"))
    return job_params(job)


def test_prod_gold_job_only_verifies_the_serving_migrations(prod_plan: Plan, dev_plan: Plan) -> None:
    # docs/serving.md: in prod an admin applies migrations and the job's start-up step only verifies;
    # in dev the job's user may run DDL and the job applies pending migrations at start.
    assert _job_parameters(prod_plan, "gold")["--sql-migrate"] == "verify"
    assert _job_parameters(dev_plan, "gold")["--sql-migrate"] == "apply"


# --------------------------------------------------------------------------- case 7: the runner's path


RUNNER_VNET = "/subscriptions/sub/resourceGroups/rg-runners/providers/Microsoft.Network/virtualNetworks/vnet-runners"
NETWORK_PROGRAM = """
import pulumi
from components.base import CommonArgs, DiagnosticsArgs
from components.network import Network, NetworkArgs, RunnerNetworkArgs, SubnetSpec

common = CommonArgs(resource_group_name="rg", location="westeurope", tags={}, subscription_id="sub")
net = Network("network", NetworkArgs(
    common=common, diagnostics=DiagnosticsArgs(workspace_id="/law"), vnet_name="vnet-x",
    address_space="10.9.0.0/16", subnets=(SubnetSpec("private-endpoints", "10.9.0.0/24"),),
    dns_zone_keys=("blob", "vault"),
    runner_networks=(RunnerNetworkArgs(vnet_id=%r),),
))
# A zone an ingestion option adds later (Confluent) is linked to the runner too.
net.add_private_dns_zone("network", "confluent", "westeurope.azure.confluent.cloud")
"""


def test_the_deploy_runner_vnet_is_peered_both_ways_and_linked_to_every_private_zone(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: contract\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(NETWORK_PROGRAM % RUNNER_VNET)
    plan = run_stack("test", root=tmp_path, preview=False)
    vnet = only(plan, "azure-native:network:VirtualNetwork")
    peerings = {p.name: p.inputs for p in plan.of_type("azure-native:network:VirtualNetworkPeering")}
    out, back = peerings["network-peer-deploy-runner"], peerings["network-peer-deploy-runner-back"]
    assert out["virtualNetworkName"] == "vnet-x" and out["remoteVirtualNetwork"]["id"] == RUNNER_VNET
    assert back["virtualNetworkName"] == "vnet-runners" and back["resourceGroupName"] == "rg-runners"
    assert back["remoteVirtualNetwork"]["id"] == vnet.id
    for peering in (out, back):
        assert peering["allowVirtualNetworkAccess"] is True
        assert peering["allowGatewayTransit"] is False and peering["useRemoteGateways"] is False
    zones = {z.urn: z for z in plan.of_type("azure-native:privatedns:PrivateZone")}
    linked: dict[str, set[str]] = {urn: set() for urn in zones}
    for link in plan.of_type("azure-native:privatedns:VirtualNetworkLink"):
        (zone_urn,) = [d for d in link.dependencies if d in zones]
        linked[zone_urn].add(link.inputs["virtualNetwork"]["id"])
    assert len(zones) == 3
    assert all(ids == {vnet.id, RUNNER_VNET} for ids in linked.values()), linked


def test_the_stack_config_wires_the_deploy_runner_into_the_platform_network() -> None:
    # network.deployRunner (stack_config/network.py) reaches the Network component: both peerings and a
    # link of the runner VNet for every private DNS zone of the stack.
    network = raw_stack_config("dev")["network"]
    network["deployRunner"] = {"vnetId": RUNNER_VNET}
    plan = run_stack("dev", preview=True, config_overrides={"rta-platform:network": network})
    peerings = {p.name for p in plan.of_type("azure-native:network:VirtualNetworkPeering")}
    assert {"network-peer-deploy-runner", "network-peer-deploy-runner-back"} <= peerings
    zones = plan.of_type("azure-native:privatedns:PrivateZone")
    runner_links = [
        link
        for link in plan.of_type("azure-native:privatedns:VirtualNetworkLink")
        if link.inputs.get("virtualNetwork", {}).get("id") == RUNNER_VNET
    ]
    assert zones and len(runner_links) == len(zones)


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        ({"vnetId": "/subscriptions/s/resourceGroups/rg"}, "network.deployRunner.vnetId"),
        ({"vnetId": RUNNER_VNET, "key": "Deploy Runner"}, "network.deployRunner.key"),
    ],
)
def test_a_broken_deploy_runner_is_a_config_error_naming_its_key(runner: dict[str, str], expected: str) -> None:
    from stack_config import ConfigError
    from stack_config.loader import parse_stack_config

    raw = raw_stack_config("dev")
    raw["network"]["deployRunner"] = runner
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_stack_config(raw, "dev")


def test_a_runner_vnet_id_that_is_not_a_vnet_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: contract\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(NETWORK_PROGRAM % "/subscriptions/sub/resourceGroups/rg")
    with pytest.raises(StackProgramError) as info:
        run_stack("test", root=tmp_path)
    assert "is not a virtual network resource id" in str(info.value.cause)


# --------------------------------------------------------------------------- case 2: run_as and the alerts' principal

DBX = "databricks:index/"


def test_the_alerts_principal_may_use_sql_and_the_warehouse(stack_plan: Plan) -> None:
    runtime_sp = only(stack_plan, DBX + "servicePrincipal:ServicePrincipal")
    app_id = runtime_sp.outputs["applicationId"]
    alerts = stack_plan.of_type(DBX + "alertV2:AlertV2")
    assert alerts and all(a.inputs["runAs"]["servicePrincipalName"] == app_id for a in alerts)
    # Databricks SQL access entitlement: alerts evaluate on a SQL warehouse.
    assert runtime_sp.inputs["databricksSqlAccess"] is True
    warehouse = only(stack_plan, DBX + "sqlEndpoint:SqlEndpoint")
    (permissions,) = [
        p for p in stack_plan.of_type(DBX + "permissions:Permissions") if p.inputs.get("sqlEndpointId") == warehouse.id
    ]
    grants = {a.get("servicePrincipalName"): a["permissionLevel"] for a in permissions.inputs["accessControls"]}
    assert grants.get(app_id) == "CAN_USE"
    for alert in alerts:
        assert permissions.urn in alert.dependencies, "an alert is created before its principal may use the warehouse"
    # SELECT on what its queries read (the gold schema), through Unity Catalog.
    gold = next(g for g in stack_plan.of_type(DBX + "grants:Grants") if g.name.endswith("grants-schema-gold"))
    assert any(e["principal"] == app_id and "SELECT" in e["privileges"] for e in gold.inputs["grants"])
