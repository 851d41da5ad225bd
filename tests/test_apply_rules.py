"""Apply-time rules: each bites on a minimal plan, passes its fixed twin, and the shipped stacks pass.

A minimal plan holds only the resources a rule looks at, linked the way a first preview
links them (property dependencies; ids unknown), so each case shows the defect class alone.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest

from offline import apply_rules
from offline.apply_rules import RULES, evaluate
from offline.plan import UNKNOWN, Plan, PlannedResource

AZ = "azure-native"


def res(
    type_: str, name: str, inputs: dict[str, Any], **links: PlannedResource | list[PlannedResource]
) -> PlannedResource:
    """A planned resource; each keyword links an input to other resources, as property dependencies do."""
    deps = {k: [r.urn for r in (v if isinstance(v, list) else [v])] for k, v in links.items()}
    for key in links:
        inputs.setdefault(key, UNKNOWN)
    urn = f"urn:pulumi:t::p::{type_}::{name}"
    return PlannedResource(urn=urn, type=type_, name=name, custom=True, inputs=inputs, property_dependencies=deps)


def plan(*resources: PlannedResource) -> Plan:
    return Plan(project="p", stack="t", preview=True, resources=list(resources), outputs={})


def vault(sku: str = "premium", purge: bool = True) -> PlannedResource:
    return res(
        apply_rules.VAULT,
        "kv",
        {"vaultName": "kv1", "properties": {"sku": {"name": sku}, "enablePurgeProtection": purge}},
    )


def key(kv: PlannedResource, kty: str = "RSA-HSM") -> PlannedResource:
    return res(apply_rules.KEY, "key", {"properties": {"kty": kty}}, vaultName=kv)


def namespace(tier: str) -> PlannedResource:
    return res(apply_rules.NAMESPACE, "ns", {"sku": {"name": tier}, "encryption": {"keySource": "Microsoft.KeyVault"}})


def workspace(sku: str, **inputs: Any) -> PlannedResource:
    return res(apply_rules.WORKSPACE, "dbw", {"sku": {"name": sku}, **inputs})


def endpoint(target: PlannedResource, group: str, zone_name: str | None = None) -> list[PlannedResource]:
    pe = res(
        apply_rules.PRIVATE_ENDPOINT,
        "pe",
        {"privateEndpointName": "pe1", "privateLinkServiceConnections": [{"groupIds": [group]}]},
        privateLinkServiceConnections=target,
    )
    if zone_name is None:
        return [target, pe]
    zone = res(apply_rules.DNS_ZONE, "zone", {"privateZoneName": zone_name})
    group_res = res(
        apply_rules.DNS_ZONE_GROUP,
        "pe-dns",
        {"privateDnsZoneConfigs": [{}]},
        privateEndpointName=pe,
        privateDnsZoneConfigs=zone,
    )
    return [target, pe, zone, group_res]


STORAGE = res(apply_rules.STORAGE, "st", {"accountName": "st1", "sku": {"name": "Standard_LRS"}})


def sql_server(primary: bool) -> PlannedResource:
    inputs: dict[str, Any] = {"identity": {"type": "UserAssigned"}, "keyId": "https://kv1.vault.azure.net/keys/k/1"}
    if primary:
        inputs["primaryUserAssignedIdentityId"] = UNKNOWN
    return res(apply_rules.SQL_SERVER, "sql", inputs)


def injected(nsg: bool) -> list[PlannedResource]:
    subnet_inputs: dict[str, Any] = {"delegations": [{"serviceName": "Microsoft.Databricks/workspaces"}]}
    if nsg:
        subnet_inputs["networkSecurityGroup"] = {"id": UNKNOWN}
    subnet = res(apply_rules.SUBNET, "snet-host", subnet_inputs)
    return [subnet, res(apply_rules.WORKSPACE, "dbw", {"sku": {"name": "premium"}}, parameters=subnet)]


def lake(sku: str) -> PlannedResource:
    return res(apply_rules.STORAGE, "lake", {"accountName": "lake1", "sku": {"name": sku}})


def lifecycle(account: PlannedResource, prefix: str, action: str) -> PlannedResource:
    rule_def = {
        "name": "age-out",
        "definition": {
            "actions": {"baseBlob": {action: {"daysAfterModificationGreaterThan": 730}}},
            "filters": {"prefixMatch": [prefix]},
        },
    }
    return res(apply_rules.MANAGEMENT_POLICY, "lifecycle", {"policy": {"rules": [rule_def]}}, accountName=account)


def delta_location(container: str) -> PlannedResource:
    return res(
        apply_rules.EXTERNAL_LOCATION, f"loc-{container}", {"url": f"abfss://{container}@lake1.dfs.core.windows.net/"}
    )


def sql_with_keys(key_id: bool, server_key: bool) -> list[PlannedResource]:
    server = res(apply_rules.SQL_SERVER, "sql", {"keyId": "https://kv1.vault.azure.net/keys/k/1"} if key_id else {})
    return (
        [server, res(apply_rules.SQL_SERVER_KEY, "sql-key", {"serverKeyType": "AzureKeyVault"}, serverName=server)]
        if server_key
        else [server]
    )


def granted_consumer(wait: bool) -> list[PlannedResource]:
    kv = vault()
    cmk = res(apply_rules.KEY, "cmk", {"keyName": "cmk-lake", "properties": {"kty": "RSA-HSM"}}, vaultName=kv)
    grant = res(
        apply_rules.ROLE_ASSIGNMENT,
        "grant",
        {"roleDefinitionId": f"/roleDefinitions/{apply_rules.CRYPTO_SERVICE_ENCRYPTION_USER}"},
        scope=cmk,
    )
    sleep = res(apply_rules.SLEEP, "wait", {"createDuration": "600s"})
    sleep.dependencies = [grant.urn]
    account = res(apply_rules.STORAGE, "st", {"encryption": {"keyVaultProperties": {"keyName": "cmk-lake"}}})
    account.dependencies = [grant.urn, sleep.urn] if wait else [grant.urn]
    return [kv, cmk, grant, sleep, account]


OIDC = "github-oidc-azure"


def via(r: PlannedResource, provider: PlannedResource) -> PlannedResource:
    r.provider = f"{provider.urn}::provider-id"
    return r


def after(r: PlannedResource, *others: PlannedResource) -> PlannedResource:
    r.dependencies = [o.urn for o in others]
    return r


def oidc_workspace(admin_first: bool) -> list[PlannedResource]:
    ws = workspace("premium")
    provider = res(apply_rules.DATABRICKS_PROVIDER, "dbx", {"authType": OIDC}, azureWorkspaceResourceId=ws)
    admin = res(apply_rules.PERMISSION_ASSIGNMENT, "admin", {"permissions": ["ADMIN"]}, workspaceId=ws)
    catalog = via(res("databricks:index/catalog:Catalog", "catalog", {"name": "c"}), provider)
    return [ws, provider, admin, after(catalog, admin) if admin_first else catalog]


def federated(metastore_first: bool) -> list[PlannedResource]:
    ws = workspace("premium")
    metastore = res(apply_rules.METASTORE_ASSIGNMENT, "metastore", {"metastoreId": "m"}, workspaceId=ws)
    admin = res(apply_rules.PERMISSION_ASSIGNMENT, "admin", {"permissions": ["ADMIN"]}, workspaceId=ws)
    return [ws, metastore, after(admin, metastore) if metastore_first else admin]


def assigned_through(account: bool) -> list[PlannedResource]:
    inputs = {"host": apply_rules.ACCOUNTS_HOST, "accountId": "acc"} if account else {"host": "https://adb-1.net"}
    provider = res(apply_rules.DATABRICKS_PROVIDER, "dbx", inputs)
    return [provider, via(res(apply_rules.PERMISSION_ASSIGNMENT, "admin", {"permissions": ["ADMIN"]}), provider)]


def run_as(role_first: bool) -> list[PlannedResource]:
    sp = res(apply_rules.SERVICE_PRINCIPAL, "jobs-sp", {"displayName": "jobs"})
    grants = [{"role": apply_rules.SP_USER_ROLE, "principals": ["servicePrincipals/deployer"]}]
    rule_set = res(apply_rules.RULE_SET, "rule-set", {"grantRules": grants, "name": UNKNOWN})
    rule_set.property_dependencies["name"] = [sp.urn]  # accounts/<id>/servicePrincipals/<sp>/ruleSets/default
    job = res("databricks:index/job:Job", "job", {"runAs": {"servicePrincipalName": UNKNOWN}}, runAs=sp)
    return [sp, rule_set, after(job, rule_set) if role_first else job]


def confluent_topic(after_links: bool) -> list[PlannedResource]:
    ccn = res(apply_rules.CONFLUENT_NETWORK, "ccn", {"displayName": "n"})
    zone = res(apply_rules.DNS_ZONE, "zone", {}, privateZoneName=ccn)
    links = [res(apply_rules.VNET_LINK, f"link-{k}", {}, privateZoneName=zone) for k in ("vnet", "runner")]
    topic = res(apply_rules.KAFKA_TOPIC, "topic", {"topicName": "trades"})
    return [ccn, zone, *links, after(topic, *(links if after_links else links[:1]))]


def continuous_job(retries: bool) -> PlannedResource:
    task: dict[str, Any] = {"taskKey": "bronze", **({"maxRetries": 3} if retries else {})}
    continuous = {"pauseStatus": "UNPAUSED", **({"taskRetryMode": "ON_FAILURE"} if retries else {})}
    return res("databricks:index/job:Job", "bronze", {"continuous": continuous, "tasks": [task]})


def private_lake_for_unity_catalog(rule_for_connector: bool) -> list[PlannedResource]:
    connector = res(apply_rules.ACCESS_CONNECTOR, "connector", {"connectorName": "dbac"})
    rules = {
        "defaultAction": "Deny",
        **({"resourceAccessRules": [{"resourceId": UNKNOWN}]} if rule_for_connector else {}),
    }
    account = res(apply_rules.STORAGE, "lake", {"accountName": "lake1", "publicNetworkAccess": "Disabled"})
    account.inputs["networkRuleSet"] = rules
    if rule_for_connector:
        account.property_dependencies["networkRuleSet"] = [connector.urn]
    credential = res(apply_rules.STORAGE_CREDENTIAL, "cred", {"name": "lake"}, azureManagedIdentity=connector)
    location = res(
        apply_rules.EXTERNAL_LOCATION,
        "loc",
        {"url": "abfss://bronze@lake1.dfs.core.windows.net/", "credentialName": "lake"},
    )
    return [connector, account, credential, location]


# rule id -> (bad plan, good plan): the defect class alone, and the same plan fixed.
CASES: dict[str, tuple[Callable[[], Plan], Callable[[], Plan]]] = {
    "AT-01": (lambda: plan(kv := vault("standard"), key(kv)), lambda: plan(kv := vault("premium"), key(kv))),
    "AT-02": (lambda: plan(kv := vault(purge=False), key(kv)), lambda: plan(kv := vault(), key(kv))),
    "AT-03": (lambda: plan(namespace("Standard")), lambda: plan(namespace("Premium"))),
    "AT-04": (
        lambda: plan(workspace("standard", publicNetworkAccess="Disabled")),
        lambda: plan(workspace("premium", publicNetworkAccess="Disabled")),
    ),
    "AT-05": (lambda: plan(*endpoint(STORAGE, "vault")), lambda: plan(*endpoint(STORAGE, "dfs"))),
    "AT-06": (
        lambda: plan(*endpoint(STORAGE, "dfs", "privatelink.blob.core.windows.net")),
        lambda: plan(*endpoint(STORAGE, "dfs", "privatelink.dfs.core.windows.net")),
    ),
    "AT-07": (lambda: plan(sql_server(primary=False)), lambda: plan(sql_server(primary=True))),
    "AT-08": (lambda: plan(*injected(nsg=False)), lambda: plan(*injected(nsg=True))),
    "AT-09": (
        lambda: plan(st := lake("Standard_RAGZRS"), lifecycle(st, "landing/", "tierToArchive")),
        lambda: plan(st := lake("Standard_RAGZRS"), lifecycle(st, "landing/", "tierToCold")),
    ),
    "AT-10": (
        lambda: plan(st := lake("Standard_LRS"), delta_location("bronze"), lifecycle(st, "bronze/", "delete")),
        lambda: plan(st := lake("Standard_LRS"), delta_location("bronze"), lifecycle(st, "landing/", "delete")),
    ),
    "AT-11": (
        lambda: plan(*sql_with_keys(key_id=True, server_key=True)),
        lambda: plan(*sql_with_keys(key_id=False, server_key=True)),
    ),
    "AT-12": (lambda: plan(*granted_consumer(wait=False)), lambda: plan(*granted_consumer(wait=True))),
    "AT-13": (lambda: plan(*oidc_workspace(admin_first=False)), lambda: plan(*oidc_workspace(admin_first=True))),
    "AT-14": (lambda: plan(*federated(metastore_first=False)), lambda: plan(*federated(metastore_first=True))),
    "AT-15": (lambda: plan(*assigned_through(account=False)), lambda: plan(*assigned_through(account=True))),
    "AT-16": (lambda: plan(*run_as(role_first=False)), lambda: plan(*run_as(role_first=True))),
    "AT-17": (lambda: plan(*confluent_topic(after_links=False)), lambda: plan(*confluent_topic(after_links=True))),
    "AT-18": (lambda: plan(continuous_job(retries=True)), lambda: plan(continuous_job(retries=False))),
    "AT-19": (
        lambda: plan(*private_lake_for_unity_catalog(rule_for_connector=False)),
        lambda: plan(*private_lake_for_unity_catalog(rule_for_connector=True)),
    ),
}


def test_every_rule_has_a_minimal_case_and_cites_its_source() -> None:
    assert sorted(CASES) == sorted(r.id for r in RULES), "each rule needs a bad and a good minimal plan here"
    for r in RULES:
        assert re.search(r"https://|github\.com/|#\d+", r.source), f"{r.id} cites no source"
        assert "Source" in r.source, f"{r.id}: the docstring names its source"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_bites_on_a_minimal_plan_and_passes_its_fixed_twin(rule: apply_rules.Rule) -> None:
    bad, good = CASES[rule.id]
    bad_report = evaluate(bad(), [rule])
    assert [f.rule for f in bad_report.findings] == [rule.id], bad_report
    good_report = evaluate(good(), [rule])
    assert good_report.findings == [] and good_report.checked[rule.id] >= 1, good_report


KUSTO = res(apply_rules.KUSTO_CLUSTER, "adx", {"clusterName": "adx1", "location": "West Europe"})
FUNCTION = res(apply_rules.FUNCTION_APP, "func", {"name": "func1"})


@pytest.mark.parametrize(
    ("target", "group", "zone", "finding"),
    [
        (FUNCTION, "blob", None, "not offered"),
        (KUSTO, "cluster", "privatelink.northeurope.kusto.windows.net", "resolves in"),
        (KUSTO, "cluster", "privatelink.westeurope.kusto.windows.net", None),
        (KUSTO, "cluster", "privatelink.queue.core.windows.net", None),
        (FUNCTION, "sites", "privatelink.blob.core.windows.net", "resolves in"),
        (FUNCTION, "sites", "privatelink.azurewebsites.net", None),
    ],
)
def test_function_and_kusto_endpoints_are_checked_for_group_and_zone(
    target: PlannedResource, group: str, zone: str | None, finding: str | None
) -> None:
    # The Kusto zone is per region (the cluster's location, spaces dropped, lower case).
    report = evaluate(plan(*endpoint(target, group, zone)), [r for r in RULES if r.id in ("AT-05", "AT-06")])
    messages = [f.message for f in report.findings]
    assert (finding is None and messages == []) or (finding is not None and any(finding in m for m in messages))


def test_a_rule_with_nothing_to_check_says_so() -> None:
    report = evaluate(plan(STORAGE))
    assert report.checked["AT-01"] == 0
    out = io.StringIO()
    apply_rules.print_report(report, out)
    assert "nothing to check in this stack: AT-01" in out.getvalue()


def test_shipped_stacks_pass_every_apply_time_rule(
    dev_plan: Plan, prod_plan: Plan, prod_preview_plan: Plan, confluent_plan: Plan
) -> None:
    for stack_plan in (dev_plan, prod_plan, prod_preview_plan, confluent_plan):
        report = evaluate(stack_plan)
        assert report.findings == [], (stack_plan.stack, report.findings)
    # Prod exercises every rule but the Confluent one, which the confluent stack exercises.
    checked = evaluate(prod_preview_plan).checked
    checked["AT-17"] = evaluate(confluent_plan).checked["AT-17"]
    assert all(n > 0 for n in checked.values()), checked
