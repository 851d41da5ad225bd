"""The hot path as dev deploys it: a private Kusto cluster reading the trades hub on its own group (issue 37).

Asserted on the shared dev plans (tests/conftest.py), never on a second run of the program.
"""

from __future__ import annotations

import hashlib
import itertools

from hot_path import database_scripts
from offline.engine import TENANT_ID
from offline.plan import Plan, PlannedResource
from tests.builtin_roles import EH_RECEIVER
from tests.plan_queries import (
    ZONE,
    diagnostics_for,
    group_ids,
    only,
    private_endpoints_for,
    raw_stack_config,
    role_assignments,
    zone_group_for,
)

CLUSTER = "azure-native:kusto:Cluster"
DATABASE = "azure-native:kusto:ReadWriteDatabase"
SCRIPT = "azure-native:kusto:Script"
CONNECTION = "azure-native:kusto:EventHubDataConnection"
MANAGED_PE = "azure-native:kusto:ManagedPrivateEndpoint"
HUB = "azure-native:eventhub:EventHub"
NAMESPACE = "azure-native:eventhub:Namespace"
CONSUMER_GROUP = "azure-native:eventhub:ConsumerGroup"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
PRINCIPAL = "azure-native:kusto:DatabasePrincipalAssignment"


def cluster(plan: Plan) -> PlannedResource:
    return only(plan, CLUSTER)


def kusto_identity(plan: Plan) -> PlannedResource:
    return plan.one(IDENTITY, "identities-kusto")


def test_the_cluster_is_private_entra_only_and_encrypted(dev_plan: Plan) -> None:
    i = cluster(dev_plan).inputs
    assert i["publicNetworkAccess"] == "Disabled" and i["restrictOutboundNetworkAccess"] == "Enabled"
    assert i["enableDiskEncryption"] is True and i["trustedExternalTenants"] == []
    assert i["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [kusto_identity(dev_plan).id]}
    config = raw_stack_config("dev")["hotPath"]
    assert (i["sku"]["name"], i["sku"]["capacity"]) == (config["sku"], config["capacity"])
    assert 4 <= len(i["clusterName"]) <= 22 and i["clusterName"].isalnum() and i["clusterName"].islower()


def test_its_endpoint_registers_in_the_regional_kusto_zone_and_the_ingestion_storage_zones(dev_plan: Plan) -> None:
    endpoints = private_endpoints_for(dev_plan, cluster(dev_plan))
    assert [group_ids(pe) for pe in endpoints] == [["cluster"]]
    group = zone_group_for(dev_plan, endpoints[0])
    assert group is not None
    zones = {z.id: z.inputs["privateZoneName"] for z in dev_plan.of_type(ZONE)}
    registered = [zones[c["privateDnsZoneId"]] for c in group.inputs["privateDnsZoneConfigs"]]
    assert registered == [
        "privatelink.westeurope.kusto.windows.net",
        "privatelink.blob.core.windows.net",
        "privatelink.queue.core.windows.net",
        "privatelink.table.core.windows.net",
    ]


def test_the_data_connection_reads_the_trades_hub_on_its_own_group_with_a_granted_identity(dev_plan: Plan) -> None:
    by_urn = dev_plan.by_urn()
    connection = only(dev_plan, CONNECTION)
    hub = dev_plan.one(HUB, "eventstreaming-hub-trades")
    ident = kusto_identity(dev_plan)
    i = connection.inputs
    assert (i["eventHubResourceId"], i["managedIdentityResourceId"]) == (hub.id, ident.id)
    # Its consumer group is one the hub has, and nobody else's (never $Default, not the bronze job's).
    group = dev_plan.one(CONSUMER_GROUP, f"eventstreaming-hub-trades-cg-{i['consumerGroup']}")
    assert i["consumerGroup"] == "kusto-hot-path" and group.urn in connection.dependencies
    # The identity may read that hub only, and the connection waits for the grant.
    readers = [
        ra
        for ra in role_assignments(dev_plan)
        if ra.inputs["roleDefinitionId"].endswith(EH_RECEIVER)
        and ra.inputs["principalId"] == ident.outputs["principalId"]
    ]
    assert [ra.inputs["scope"] for ra in readers] == [hub.id]
    assert readers[0].urn in connection.dependencies
    # ... through the managed private endpoint to the namespace (the cluster's outbound is restricted).
    mpe = only(dev_plan, MANAGED_PE)
    assert (mpe.inputs["privateLinkResourceId"], mpe.inputs["groupId"]) == (only(dev_plan, NAMESPACE).id, "namespace")
    assert mpe.urn in connection.dependencies
    # Table and mapping come from the scripts: the connection waits for the last one.
    assert (i["tableName"], i["mappingRuleName"], i["dataFormat"]) == ("TradesRaw", "TradesRawJson", "JSON")
    assert all(by_urn[u].type != SCRIPT or u in connection.dependencies for u in by_urn)


def test_the_schema_is_every_kql_file_applied_in_order_and_rerun_on_change_only(dev_plan: Plan) -> None:
    symbols = raw_stack_config("dev")["databricks"]["streaming"]["symbols"]
    expected = database_scripts(symbols)
    scripts = dev_plan.of_type(SCRIPT)
    assert [s.inputs["scriptContent"] for s in scripts] == [f.text for f in expected]
    for script, file in zip(scripts, expected, strict=True):
        assert script.inputs["forceUpdateTag"] == hashlib.sha256(file.text.encode()).hexdigest()[:32]
        assert script.inputs["continueOnErrors"] is False
    database = only(dev_plan, DATABASE)
    assert scripts[0].dependencies and database.urn in scripts[0].dependencies
    for earlier, later in itertools.pairwise(scripts):
        assert earlier.urn in later.dependencies, f"{later.name} may run before {earlier.name}"
    assert all(f'"{s}"' in scripts[0].inputs["scriptContent"] for s in symbols)


def test_the_database_keeps_what_config_says(dev_plan: Plan) -> None:
    config = raw_stack_config("dev")["hotPath"]
    i = only(dev_plan, DATABASE).inputs
    assert (i["softDeletePeriod"], i["hotCachePeriod"]) == (
        f"P{config['retentionDays']}D",
        f"P{config['hotCacheDays']}D",
    )


def test_the_cluster_logs_to_the_platform_workspace_and_its_uri_is_an_output(dev_plan: Plan) -> None:
    c = cluster(dev_plan)
    assert c.id is not None and diagnostics_for(dev_plan, c.id)
    assert dev_plan.outputs["hotPathClusterUri"] == f"https://{c.inputs['clusterName']}.westeurope.kusto.windows.net"
    assert dev_plan.outputs["hotPathDatabase"] == only(dev_plan, DATABASE).inputs["databaseName"]


def test_the_database_names_its_readers_from_config_each_with_the_least_role_it_needs(dev_plan: Plan) -> None:
    """viewers read data (Viewer), monitors run `.show` commands (Monitor); no admin, no service identity."""
    config = raw_stack_config("dev")["hotPath"]
    database = only(dev_plan, DATABASE)
    assignments = {a.inputs["principalAssignmentName"]: a for a in dev_plan.of_type(PRINCIPAL)}
    granted = {key: (a.inputs["role"], a.inputs["principalId"]) for key, a in assignments.items()}
    assert granted == {
        "viewers": ("Viewer", config["viewers"]["objectId"]),
        "monitors": ("Monitor", config["monitors"]["objectId"]),
    }
    for a in assignments.values():
        i = a.inputs
        assert (i["principalType"], i["tenantId"]) == ("Group", TENANT_ID)
        assert i["clusterName"] == cluster(dev_plan).inputs["clusterName"]
        assert i["databaseName"] == database.inputs["databaseName"]
        assert database.urn in a.dependencies, "assigned once the database exists"
