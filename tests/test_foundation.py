"""The platform foundation, asserted on the recorded plans of the shipped stacks."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from offline.plan import UNKNOWN, Plan, PlannedResource
from tests.builtin_roles import (
    BLOB_DATA_CONTRIBUTOR,
    CONTRIBUTOR,
    CRYPTO_USER,
    EH_RECEIVER,
    EH_SENDER,
    OWNER,
    USER_ACCESS_ADMIN,
)
from tests.plan_queries import (
    DIAG,
    LAW,
    ROLE,
    ZONE,
    all_strings,
    diagnostics_for,
    dig,
    group_ids,
    only,
    private_endpoints_for,
    raw_stack_config,
    zone_group_for,
)

STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
EH_NS = "azure-native:eventhub:Namespace"
NSG = "azure-native:network:NetworkSecurityGroup"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
FIREWALL = "azure-native:network:AzureFirewall"
SQL_SERVER = "azure-native:sql:Server"  # its master database's audit stream
SQL_DB = "azure-native:sql:Database"
DBW = "azure-native:databricks:Workspace"


# --------------------------------------------------------------------------- structure


def test_every_resource_sits_under_a_platform_component(stack_plan: Plan) -> None:
    by_urn = stack_plan.by_urn()
    for r in stack_plan.resources:
        if r.custom and not r.type.startswith("pulumi:providers:"):
            assert r.parent in by_urn, f"{r.type} {r.name} has no component parent"
            assert not by_urn[r.parent].custom or r.parent, r.name
        if not r.custom:
            assert r.type.startswith("rta:platform:"), f"component {r.name} outside the rta:platform namespace"


def test_every_taggable_resource_carries_the_platform_tags(stack_plan: Plan) -> None:
    untagged_types = {
        "azure-native:monitor:DiagnosticSetting",
        "azure-native:network:Subnet",
        "azure-native:storage:BlobContainer",
        "azure-native:storage:ManagementPolicy",
        "azure-native:network:PrivateDnsZoneGroup",
        ROLE,
        "azure-native:eventhub:EventHub",
        "azure-native:eventhub:ConsumerGroup",
        "azure-native:eventhub:NamespaceNetworkRuleSet",
        "azure-native:authorization:ManagementLockAtResourceGroupLevel",
    }
    env = stack_plan.stack
    for r in stack_plan.resources:
        if not r.type.startswith("azure-native:") or r.type in untagged_types or "tags" not in r.inputs:
            continue
        tags = r.inputs["tags"]
        for key in ("owner", "costCenter", "dataClassification", "project", "managedBy"):
            assert key in tags, f"{r.type} {r.name} lacks tag {key}"
        assert tags["environment"] == env


def test_every_azure_resource_with_a_location_gets_it_explicitly(stack_plan: Plan) -> None:
    # Provider defaults never show up in a preview, so the program must set location itself.
    needs_location = {
        STORAGE,
        VAULT,
        EH_NS,
        NSG,
        VNET,
        LAW,
        "azure-native:network:PrivateEndpoint",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:resources:ResourceGroup",
    }
    for r in stack_plan.resources:
        if r.type in needs_location:
            assert r.inputs.get("location") == "westeurope", f"{r.type} {r.name} has no explicit location"


# --------------------------------------------------------------------------- network


def test_vnet_has_no_inline_subnets_and_ignores_their_drift(stack_plan: Plan) -> None:
    vnets = stack_plan.of_type(VNET)
    assert len(vnets) == (2 if stack_plan.stack == "prod" else 1)  # prod: spoke + hub (docs/network.md)
    for vnet in vnets:
        assert "subnets" not in vnet.inputs
        assert "subnets" in vnet.options["ignoreChanges"]


def _spoke(plan: Plan) -> PlannedResource:
    return plan.one(VNET, "network-vnet")


def _spoke_subnets(plan: Plan) -> list[PlannedResource]:
    name = _spoke(plan).inputs["virtualNetworkName"]
    return [s for s in plan.of_type(SUBNET) if s.inputs["virtualNetworkName"] == name]


def test_subnets_each_have_an_nsg_and_databricks_ones_are_delegated(stack_plan: Plan) -> None:
    subnets = {s.inputs["subnetName"]: s for s in _spoke_subnets(stack_plan)}
    expected = {"snet-private-endpoints", "snet-databricks-host", "snet-databricks-container"}
    # dev runs the API poller, whose VNet integration subnet is delegated to Microsoft.App/environments.
    assert set(subnets) == expected | ({"snet-functions"} if stack_plan.stack == "dev" else set())
    hub_spoke = stack_plan.stack == "prod"
    nsg_ids = {n.id for n in stack_plan.of_type(NSG)}
    for name, subnet in subnets.items():
        assert dig(subnet.inputs, "networkSecurityGroup", "id") in nsg_ids, f"{name} has no NSG"
        assert subnet.inputs["defaultOutboundAccess"] is False
        delegations = [d["serviceName"] for d in subnet.inputs.get("delegations", [])]
        if "databricks" in name:
            assert delegations == ["Microsoft.Databricks/workspaces"]
            # No public node IPs: egress through the NAT gateway (spoke) or the hub firewall (hub-spoke).
            assert ("routeTable" if hub_spoke else "natGateway") in subnet.inputs, name
        elif name == "snet-functions":
            assert delegations == ["Microsoft.App/environments"]
            assert ("routeTable" if hub_spoke else "natGateway") in subnet.inputs, name
        else:
            assert delegations == []


def test_subnets_are_created_one_after_another(stack_plan: Plan) -> None:
    subnets = _spoke_subnets(stack_plan)
    assert len(subnets) == (4 if stack_plan.stack == "dev" else 3)  # dev adds the API poller's subnet
    for earlier, later in itertools.pairwise(subnets):
        assert earlier.urn in later.dependencies, "concurrent subnet writes on one VNet fail in Azure"


def test_subnets_fit_the_configured_address_space(stack_plan: Plan) -> None:
    space = ipaddress.ip_network(_spoke(stack_plan).inputs["addressSpace"]["addressPrefixes"][0])
    prefixes = [ipaddress.ip_network(s.inputs["addressPrefix"]) for s in _spoke_subnets(stack_plan)]
    assert all(p.subnet_of(space) for p in prefixes)
    assert not any(a.overlaps(b) for i, a in enumerate(prefixes) for b in prefixes[i + 1 :])


def test_no_nsg_allows_inbound_traffic_from_the_internet(stack_plan: Plan) -> None:
    internet = {"*", "internet", "0.0.0.0/0", "any"}
    rules = stack_plan.of_type("azure-native:network:SecurityRule")
    for nsg in stack_plan.of_type(NSG):
        # Standalone rules only: an inline list would fight the rules Databricks adds.
        assert "securityRules" not in nsg.inputs and "securityRules" in nsg.options["ignoreChanges"]
        own = [r.inputs for r in rules if nsg.urn in r.dependencies]
        assert any(r["access"] == "Deny" and r["sourceAddressPrefix"] == "Internet" for r in own), nsg.name
    for rule in (r.inputs for r in rules):
        if rule["direction"] == "Inbound" and rule["access"] == "Allow":
            assert str(rule.get("sourceAddressPrefix", "")).lower() not in internet, rule


def test_private_dns_zones_exist_for_every_private_link_service_and_are_linked(prod_plan: Plan) -> None:
    zones = {z.inputs["privateZoneName"]: z for z in prod_plan.of_type(ZONE)}
    for zone in (
        "privatelink.blob.core.windows.net",
        "privatelink.dfs.core.windows.net",
        "privatelink.vaultcore.azure.net",
        "privatelink.servicebus.windows.net",
        "privatelink.database.windows.net",
        "privatelink.azuredatabricks.net",
    ):
        assert zone in zones, f"missing private DNS zone {zone}"
    # Linked to the spoke, (hub-spoke) the hub, whose firewall resolves for the spoke, and the deploy
    # runners' VNet; tests/test_network.py.
    vnet_ids = {v.id for v in prod_plan.of_type(VNET)} | set(prod_plan.outputs["deployRunnerVnetIds"])
    links = prod_plan.of_type("azure-native:privatedns:VirtualNetworkLink")
    for zone in zones.values():
        linked = [lk for lk in links if zone.urn in lk.dependencies]
        assert linked, f"{zone.inputs['privateZoneName']} is not linked to the VNet"
        assert {dig(lk.inputs, "virtualNetwork", "id") for lk in linked} == vnet_ids
        assert all(lk.inputs["registrationEnabled"] is False for lk in linked)


# --------------------------------------------------------------------------- data services


def _data_services(plan: Plan) -> list[tuple[PlannedResource, set[str]]]:
    return (
        # The lake (dfs + blob) and the flow-log account (blob only: Network Watcher writes blobs).
        [(r, {"dfs", "blob"} if r.name == "datalake-st" else {"blob"}) for r in plan.of_type(STORAGE)]
        + [(r, {"vault"}) for r in plan.of_type(VAULT)]
        + [(r, {"namespace"}) for r in plan.of_type(EH_NS)]
    )


@pytest.mark.parametrize("mode", ["up", "preview"])
def test_every_data_service_has_private_endpoints_with_dns_zone_groups(
    mode: str, prod_plan: Plan, prod_preview_plan: Plan
) -> None:
    plan = prod_plan if mode == "up" else prod_preview_plan
    zone_by_group = {"dfs": "dfs.core", "blob": "blob.core", "vault": "vaultcore", "namespace": "servicebus"}
    services = _data_services(plan)
    assert len(services) == 4
    for target, expected_groups in services:
        endpoints = private_endpoints_for(plan, target)
        assert {g for pe in endpoints for g in group_ids(pe)} == expected_groups, target.name
        for pe in endpoints:
            group = zone_group_for(plan, pe)
            assert group is not None, f"{pe.name} has no private DNS zone group"
            assert group.inputs["name"] == "default"
            if mode == "up":
                zone_id = group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"]
                assert zone_by_group[group_ids(pe)[0]] in zone_id


def test_storage_is_locked_down(stack_plan: Plan) -> None:
    account = stack_plan.one(STORAGE, "datalake-st")
    i = account.inputs
    assert i["isHnsEnabled"] is True
    assert i["enableHttpsTrafficOnly"] is True
    assert i["minimumTlsVersion"] == "TLS1_2"
    assert i["allowSharedKeyAccess"] is False
    assert i["allowBlobPublicAccess"] is False
    assert i["publicNetworkAccess"] == "Disabled"
    assert i["networkRuleSet"]["defaultAction"] == "Deny"
    assert i["encryption"]["requireInfrastructureEncryption"] is True
    assert i["allowCrossTenantReplication"] is False
    assert i["isLocalUserEnabled"] is False and i["isSftpEnabled"] is False
    containers = {
        c.inputs["containerName"]: c
        for c in stack_plan.of_type("azure-native:storage:BlobContainer")
        if c.inputs["accountName"] == i["accountName"]
    }
    assert set(containers) == {"landing", "bronze", "silver", "gold", "checkpoints"}
    assert all(c.inputs["publicAccess"] == "None" for c in containers.values())


def test_lifecycle_cools_after_90_days_and_never_touches_checkpoints_or_delta_tables(stack_plan: Plan) -> None:
    policy = only(stack_plan, "azure-native:storage:ManagementPolicy")
    rules = policy.inputs["policy"]["rules"]
    prefixes = [p for r in rules for p in r["definition"]["filters"]["prefixMatch"]]
    # bronze/ is the bronze Delta table's storage root: only raw capture (landing) ages out.
    assert prefixes == ["landing/"]
    account = stack_plan.one(STORAGE, "datalake-st").inputs
    for rule in rules:
        base = rule["definition"]["actions"]["baseBlob"]
        assert base["tierToCool"]["daysAfterModificationGreaterThan"] == 90
        after_two_years = base.get("tierToArchive") or base.get("tierToCold") or base.get("delete")
        assert after_two_years["daysAfterModificationGreaterThan"] == 730
        # The archive tier does not exist on zone-redundant accounts (prod is RA-GZRS).
        if "ZRS" in account["sku"]["name"]:
            assert "tierToArchive" not in base


def test_lake_keeps_deleted_blobs_and_containers(stack_plan: Plan) -> None:
    account = stack_plan.one(STORAGE, "datalake-st")
    services = stack_plan.of_type("azure-native:storage:BlobServiceProperties")
    # Every account soft-deletes (the flow-log account too); one blob service per account.
    assert sorted(s.inputs["accountName"] for s in services) == sorted(
        a.inputs["accountName"] for a in stack_plan.of_type(STORAGE)
    )
    service = next(s.inputs for s in services if s.inputs["accountName"] == account.inputs["accountName"])
    assert service["blobServicesName"] == "default"
    assert service["deleteRetentionPolicy"]["enabled"] is True and service["deleteRetentionPolicy"]["days"] >= 7
    assert service["containerDeleteRetentionPolicy"]["enabled"] is True
    # Versioning and change feed are not supported on hierarchical-namespace accounts.
    assert "isVersioningEnabled" not in service and "changeFeed" not in service


def test_key_vault_is_rbac_only_purge_protected_and_private(stack_plan: Plan) -> None:
    props = only(stack_plan, VAULT).inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["enableSoftDelete"] is True
    assert 7 <= props["softDeleteRetentionInDays"] <= 90
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert "accessPolicies" not in props


def test_event_hubs_namespace_is_entra_only_private_and_kafka_enabled(stack_plan: Plan) -> None:
    ns = only(stack_plan, EH_NS).inputs
    assert ns["kafkaEnabled"] is True
    assert ns["disableLocalAuth"] is True
    assert ns["minimumTlsVersion"] == "1.2"
    assert ns["publicNetworkAccess"] == "Disabled"
    rules = only(stack_plan, "azure-native:eventhub:NamespaceNetworkRuleSet").inputs
    assert rules["publicNetworkAccess"] == "Disabled" and rules["defaultAction"] == "Deny"
    hubs = stack_plan.of_type("azure-native:eventhub:EventHub")
    assert [h.inputs["eventHubName"] for h in hubs] == ["trades"]
    groups = {g.inputs["consumerGroupName"] for g in stack_plan.of_type("azure-native:eventhub:ConsumerGroup")}
    # Exactly the configured groups (dev adds the hot path's own), never $Default.
    configured = {g for h in raw_stack_config(stack_plan.stack)["eventHubs"]["hubs"] for g in h["consumerGroups"]}
    assert groups == configured and "bronze-ingest" in groups and "$Default" not in groups


def test_log_analytics_denies_local_auth_and_public_ingestion(stack_plan: Plan) -> None:
    law = only(stack_plan, LAW).inputs
    assert law["features"]["disableLocalAuth"] is True
    assert law["publicNetworkAccessForIngestion"] == "Disabled"


# --------------------------------------------------------------------------- diagnostics


def test_every_diagnosable_resource_sends_logs_to_the_platform_workspace(stack_plan: Plan) -> None:
    workspace_id = only(stack_plan, LAW).id
    targets = [r for r in stack_plan.resources if r.type in (STORAGE, VAULT, EH_NS, NSG, LAW)]
    assert len(targets) >= 7
    for target in targets:
        settings = diagnostics_for(stack_plan, target.id or "")
        assert settings, f"{target.type} {target.name} has no diagnostic setting"
        assert all(s.inputs["workspaceId"] == workspace_id for s in settings)
    blob_service = f"{stack_plan.one(STORAGE, 'datalake-st').id}/blobServices/default"
    blob_logs = diagnostics_for(stack_plan, blob_service)
    assert blob_logs and blob_logs[0].inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    vault_logs = diagnostics_for(stack_plan, only(stack_plan, VAULT).id or "")[0]
    assert {"categoryGroup": "allLogs", "enabled": True} in vault_logs.inputs["logs"]


def test_diagnostic_settings_depend_on_their_target_in_a_first_preview(prod_preview_plan: Plan) -> None:
    # Ids are unknown before the first apply; the link must still be there as a dependency.
    by_urn = prod_preview_plan.by_urn()
    for setting in prod_preview_plan.of_type(DIAG):
        assert setting.inputs["resourceUri"] == UNKNOWN
        targets = [by_urn[u].type for u in setting.property_dependencies["resourceUri"]]
        assert targets and targets[0] in (STORAGE, VAULT, EH_NS, NSG, LAW, SQL_SERVER, SQL_DB, DBW, FIREWALL), (
            setting.name
        )


# --------------------------------------------------------------------------- identities and roles


def _role_guid(assignment: PlannedResource) -> str:
    return assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1]


def test_no_broad_roles_are_ever_granted(stack_plan: Plan) -> None:
    for ra in stack_plan.of_type(ROLE):
        assert _role_guid(ra) not in (OWNER, CONTRIBUTOR, USER_ACCESS_ADMIN), ra.name
        assert ra.inputs["principalType"] == "ServicePrincipal"
        assert "/resourceGroups/" in ra.inputs["scope"], f"{ra.name} is scoped above the resource group"


def test_data_roles_are_granted_at_the_narrowest_scope(stack_plan: Plan) -> None:
    identities = {
        r.name.removeprefix("identities-"): r
        for r in stack_plan.of_type("azure-native:managedidentity:UserAssignedIdentity")
    }
    hub_id = only(stack_plan, "azure-native:eventhub:EventHub").id
    account_id = stack_plan.one(STORAGE, "datalake-st").id
    grants = {(ra.inputs["principalId"], _role_guid(ra)): ra.inputs["scope"] for ra in stack_plan.of_type(ROLE)}
    producer, processor = identities["producer"].outputs["principalId"], identities["processor"].outputs["principalId"]
    assert grants[(producer, EH_SENDER)] == hub_id
    assert grants[(processor, EH_RECEIVER)] == hub_id
    assert grants[(processor, BLOB_DATA_CONTRIBUTOR)] == account_id
    assert (producer, EH_RECEIVER) not in grants and (producer, BLOB_DATA_CONTRIBUTOR) not in grants


def test_role_assignment_names_are_deterministic_guids(dev_plan: Plan, dev_preview_plan: Plan) -> None:
    names_up = sorted(ra.inputs["roleAssignmentName"] for ra in dev_plan.of_type(ROLE))
    names_preview = sorted(ra.inputs["roleAssignmentName"] for ra in dev_preview_plan.of_type(ROLE))
    assert names_up == names_preview and len(set(names_up)) == len(names_up)


# --------------------------------------------------------------------------- dev vs prod


def test_prod_differs_from_dev_where_real_teams_differ(dev_plan: Plan, prod_plan: Plan) -> None:
    dev_ns, prod_ns = only(dev_plan, EH_NS).inputs, only(prod_plan, EH_NS).inputs
    assert dev_ns["sku"]["name"] == "Standard" and dev_ns["isAutoInflateEnabled"] is True
    assert prod_ns["sku"]["name"] == "Premium" and prod_ns["zoneRedundant"] is True
    assert dev_plan.one(STORAGE, "datalake-st").inputs["sku"]["name"] == "Standard_LRS"
    assert prod_plan.one(STORAGE, "datalake-st").inputs["sku"]["name"] == "Standard_RAGZRS"
    assert only(dev_plan, LAW).inputs["retentionInDays"] < only(prod_plan, LAW).inputs["retentionInDays"]
    assert not dev_plan.of_type("azure-native:authorization:ManagementLockAtResourceGroupLevel")
    lock = only(prod_plan, "azure-native:authorization:ManagementLockAtResourceGroupLevel")
    assert lock.inputs["level"] == "CanNotDelete"
    prod_hub = only(prod_plan, "azure-native:eventhub:EventHub").inputs
    assert prod_hub["captureDescription"]["enabled"] is True
    assert prod_hub["captureDescription"]["destination"]["blobContainer"] == "landing"


def test_prod_uses_customer_managed_keys_with_dedicated_identities(dev_plan: Plan, prod_plan: Plan) -> None:
    assert not dev_plan.of_type("azure-native:keyvault:Key")
    assert dev_plan.one(STORAGE, "datalake-st").inputs["encryption"]["keySource"] == "Microsoft.Storage"
    keys = {k.inputs["keyName"]: k for k in prod_plan.of_type("azure-native:keyvault:Key")}
    assert {"cmk-lake", "cmk-eventhubs"} <= set(keys)
    for key in keys.values():
        props = key.inputs["properties"]
        assert props["kty"] == "RSA-HSM" and props["keySize"] == 3072
        assert {a["action"]["type"] for a in props["rotationPolicy"]["lifetimeActions"]} == {"rotate", "notify"}
    account = prod_plan.one(STORAGE, "datalake-st").inputs
    assert account["encryption"]["keySource"] == "Microsoft.Keyvault"
    assert account["encryption"]["keyVaultProperties"]["keyName"] == "cmk-lake"
    cmk_identity = account["encryption"]["encryptionIdentity"]["encryptionUserAssignedIdentity"]
    assert account["identity"]["userAssignedIdentities"] == [cmk_identity]
    ns = only(prod_plan, EH_NS).inputs
    assert ns["encryption"]["keySource"] == "Microsoft.KeyVault"
    assert ns["encryption"]["keyVaultProperties"][0]["keyName"] == "cmk-eventhubs"
    # Each key's unwrap role is granted on that key alone, and the service waits for it.
    crypto = [ra for ra in prod_plan.of_type(ROLE) if _role_guid(ra) == CRYPTO_USER]
    assert {ra.inputs["scope"] for ra in crypto} >= {keys["cmk-lake"].id, keys["cmk-eventhubs"].id}
    lake_grant = next(ra for ra in crypto if ra.inputs["scope"] == keys["cmk-lake"].id)
    assert lake_grant.urn in prod_plan.one(STORAGE, "datalake-st").dependencies


# --------------------------------------------------------------------------- outputs


def test_outputs_name_what_operators_need_and_hold_no_secret(stack_plan: Plan) -> None:
    outputs = stack_plan.outputs
    for key in (
        "resourceGroupName",
        "keyVaultUri",
        "dataLakeDfsEndpoint",
        "kafkaBootstrapServers",
        "kafkaTopic",
        "logAnalyticsWorkspaceId",
        "vnetId",
    ):
        assert key in outputs, key
    assert outputs["kafkaBootstrapServers"].endswith(".servicebus.windows.net:9093")
    text = " ".join(all_strings(outputs)).lower()
    for marker in ("password", "sharedaccesskey", "accountkey=", "secret="):
        assert marker not in text
