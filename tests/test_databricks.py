"""The processing layer under the mock engine: private workspace, Unity Catalog, guard rails, streaming jobs.

Most assertions read the session plans (dev, prod; `up` and first-`preview`
modes). The job assertions need the job code: until `streaming_jobs/entrypoints`
exists in the repository they run against a copy of it with stub entry files
(the stack defines no jobs before their code exists), afterwards against the
real plans. The code-change test always runs the program against a copy whose
job source it edits.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from offline.apply_rules import PlanIndex
from offline.engine import REPO_ROOT, StackProgramError, run_stack, stack_config_values
from offline.plan import UNKNOWN, Plan, PlannedResource
from stack_config import ConfigError
from streaming_jobs.manifest import ALL_JOBS as EVERY_JOB
from streaming_jobs.manifest import JOBS, MAINTENANCE_JOB, MIN_VACUUM_HOURS, RUN_WINDOW_JOB, SMOKE_JOB
from streaming_jobs.runtime import (
    DATABRICKS_ROCKSDB,
    SPARK_LINE,
    SPARK_SEMANTICS,
    STATE_STORE_PROVIDER,
    STATEFUL_CLUSTER_CONF,
    runtime_spark_version,
    spark_line,
)
from tests.builtin_roles import CRYPTO_USER, SECRETS_USER
from tests.plan_queries import (
    DIAG,
    DNS_GROUP,
    ROLE,
    ZONE,
    group_ids,
    job_params,
    only,
    private_endpoints_for,
    raw_stack_config,
    zone_group_for,
)

NS = "rta-platform"
WORKSPACE = "azure-native:databricks:Workspace"
CONNECTOR = "azure-native:databricks:AccessConnector"
KEY = "azure-native:keyvault:Key"
PROVIDER = "pulumi:providers:databricks"
ASSIGNMENT = "databricks:index/metastoreAssignment:MetastoreAssignment"
STORAGE_CREDENTIAL = "databricks:index/storageCredential:StorageCredential"
CREDENTIAL = "databricks:index/credential:Credential"
LOCATION = "databricks:index/externalLocation:ExternalLocation"
CATALOG = "databricks:index/catalog:Catalog"
SCHEMA = "databricks:index/schema:Schema"
GRANTS = "databricks:index/grants:Grants"
UC_TYPES = (STORAGE_CREDENTIAL, CREDENTIAL, LOCATION, CATALOG, SCHEMA, GRANTS)
JOB = "databricks:index/job:Job"
FILE = "databricks:index/workspaceFile:WorkspaceFile"
POLICY = "databricks:index/clusterPolicy:ClusterPolicy"
SP = "databricks:index/servicePrincipal:ServicePrincipal"
PERMISSIONS = "databricks:index/permissions:Permissions"
BROAD = {"account users", "users", "all users", "admins"}
ALL_JOBS = {**JOBS, SMOKE_JOB.key: SMOKE_JOB, MAINTENANCE_JOB.key: MAINTENANCE_JOB}
AZURE_DATABRICKS_APP = {"dev": "00000000-0000-0000-0000-0000000000b1", "prod": "00000000-0000-0000-0000-0000000000b1"}


def _dev_section(key: str) -> Any:
    values, _ = stack_config_values("dev")
    return json.loads(values[f"{NS}:{key}"])


def _provider_urn(ref: str | None) -> str:
    """A provider reference is "<urn>::<id>"; the URN itself contains "::"."""
    assert ref, "no explicit provider"
    return ref.rsplit("::", 1)[0]


ACCOUNTS_HOST = "https://accounts.azuredatabricks.net"
ADMIN_ASSIGNMENT = "databricks:index/mwsPermissionAssignment:MwsPermissionAssignment"
RULE_SET = "databricks:index/accessControlRuleSet:AccessControlRuleSet"
# Objects made through the account API; everything else goes through the workspace.
ACCOUNT_LEVEL = (ASSIGNMENT, ADMIN_ASSIGNMENT)


def workspace_provider(plan: Plan) -> PlannedResource:
    (provider,) = [p for p in plan.of_type(PROVIDER) if "azureWorkspaceResourceId" in p.inputs]
    return provider


def account_provider(plan: Plan) -> PlannedResource:
    (provider,) = [p for p in plan.of_type(PROVIDER) if p.inputs.get("host") == ACCOUNTS_HOST]
    return provider


def _copy_repo(source: Path, dest: Path, edit: Callable[[Path], None] | None = None) -> Path:
    """The repository as the program sees it, with stub entry files where the job code is still missing."""
    shutil.copytree(
        source,
        dest,
        ignore=shutil.ignore_patterns(
            ".venv", "node_modules", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "tests"
        ),
    )
    for spec in JOBS.values():
        entry = dest / spec.entry_file
        if not entry.exists():
            entry.parent.mkdir(parents=True, exist_ok=True)
            entry.write_text(f'"""Stub entry point of the {spec.key} job (not in the repository yet)."""\n')
    if edit is not None:
        edit(dest)
    return dest


def _entry_files_present() -> bool:
    return all((REPO_ROOT / spec.entry_file).is_file() for spec in JOBS.values())


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the repository, so plans compared with each other see the same code."""
    return _copy_repo(REPO_ROOT, tmp_path_factory.mktemp("snapshot") / "rta-platform")


@pytest.fixture(scope="session")
def snapshot_dev_plan(snapshot: Path) -> Plan:
    return run_stack("dev", preview=False, root=snapshot)


@pytest.fixture(scope="session")
def jobs_plans(snapshot: Path, snapshot_dev_plan: Plan, dev_plan: Plan, prod_plan: Plan) -> dict[str, Plan]:
    """dev and prod (`up` mode) with the streaming jobs defined."""
    if _entry_files_present():
        return {"dev": dev_plan, "prod": prod_plan}
    return {"dev": snapshot_dev_plan, "prod": run_stack("prod", preview=False, root=snapshot)}


@pytest.fixture(scope="session")
def dev_jobs_plan(jobs_plans: dict[str, Plan]) -> Plan:
    return jobs_plans["dev"]


# ----------------------------------------------------------------------------- workspace


def test_workspace_is_premium_vnet_injected_without_public_ips_or_public_access(stack_plan: Plan) -> None:
    ws = only(stack_plan, WORKSPACE)
    vnet = stack_plan.one("azure-native:network:VirtualNetwork", "network-vnet")  # the spoke (prod has a hub too)
    subnets = {s.inputs["subnetName"]: s for s in stack_plan.of_type("azure-native:network:Subnet")}
    params = ws.inputs["parameters"]
    assert ws.inputs["sku"]["name"] == "premium"
    assert ws.inputs["computeMode"] == "Hybrid"
    assert params["enableNoPublicIp"]["value"] is True
    assert params["customVirtualNetworkId"]["value"] == vnet.id
    for side in ("customPublicSubnetName", "customPrivateSubnetName"):
        subnet = subnets[params[side]["value"]]
        assert subnet.inputs["delegations"][0]["serviceName"] == "Microsoft.Databricks/workspaces", side
        assert subnet.inputs["networkSecurityGroup"]["id"], side
        assert subnet.urn in ws.dependencies
    assert params["customPublicSubnetName"]["value"] != params["customPrivateSubnetName"]["value"]
    assert ws.inputs["publicNetworkAccess"] == "Disabled"
    assert ws.inputs["requiredNsgRules"] == "NoAzureDatabricksRules"
    assert params["requireInfrastructureEncryption"]["value"] is True
    # The workspace storage sits behind its firewall, reached through the access connector.
    connector = only(stack_plan, CONNECTOR)
    assert ws.inputs["defaultStorageFirewall"] == "Enabled"
    assert ws.inputs["accessConnector"]["id"] == connector.id
    processor = stack_plan.one("azure-native:managedidentity:UserAssignedIdentity", "identities-processor")
    assert connector.inputs["identity"]["userAssignedIdentities"] == [processor.id]


def test_workspace_has_private_endpoints_in_the_azuredatabricks_zone(stack_plan: Plan) -> None:
    ws = only(stack_plan, WORKSPACE)
    zone = next(z for z in stack_plan.of_type(ZONE) if z.inputs["privateZoneName"] == "privatelink.azuredatabricks.net")
    pe_subnet = stack_plan.one("azure-native:network:Subnet", "network-snet-private-endpoints")
    endpoints = [pe for pe in private_endpoints_for(stack_plan, ws) if "dbfs" not in pe.name]
    assert sorted(g for pe in endpoints for g in group_ids(pe)) == ["browser_authentication", "databricks_ui_api"]
    for pe in endpoints:
        assert pe.inputs["subnet"]["id"] == pe_subnet.id
        group = zone_group_for(stack_plan, pe)
        assert group is not None, pe.name
        assert [c["privateDnsZoneId"] for c in group.inputs["privateDnsZoneConfigs"]] == [zone.id]


def test_workspace_storage_is_reached_privately(stack_plan: Plan) -> None:
    ws = only(stack_plan, WORKSPACE)
    account = ws.inputs["parameters"]["storageAccountName"]["value"]
    dbfs = [
        pe
        for pe in stack_plan.of_type("azure-native:network:PrivateEndpoint")
        if account in pe.name
        or any(account in str(c.get("privateLinkServiceId")) for c in pe.inputs["privateLinkServiceConnections"])
    ]
    assert sorted(g for pe in dbfs for g in group_ids(pe)) == ["blob", "dfs"]
    for pe in dbfs:
        (conn,) = pe.inputs["privateLinkServiceConnections"]
        assert conn["privateLinkServiceId"].startswith(ws.inputs["managedResourceGroupId"] + "/providers/")
        assert zone_group_for(stack_plan, pe) is not None


def test_workspace_logs_go_to_the_platform_workspace(stack_plan: Plan) -> None:
    ws = only(stack_plan, WORKSPACE)
    law = only(stack_plan, "azure-native:operationalinsights:Workspace")
    (setting,) = [d for d in stack_plan.of_type(DIAG) if d.inputs["resourceUri"] == ws.id]
    assert setting.inputs["workspaceId"] == law.id
    assert {"categoryGroup": "allLogs", "enabled": True} in setting.inputs["logs"]


def test_prod_workspace_encrypts_managed_services_and_disks_with_the_vault_key(prod_plan: Plan) -> None:
    ws = only(prod_plan, WORKSPACE)
    key = prod_plan.one(KEY, "keyvault-key-databricks")
    version = key.outputs["keyUriWithVersion"].rsplit("/", 1)[-1]
    entities = ws.inputs["encryption"]["entities"]
    for entity in ("managedServices", "managedDisk"):
        assert entities[entity]["keySource"] == "Microsoft.Keyvault"
        props = entities[entity]["keyVaultProperties"]
        assert (props["keyName"], props["keyVersion"]) == ("cmk-databricks", version)
    assert entities["managedDisk"]["rotationToLatestKeyVersionEnabled"] is True
    assert ws.inputs["parameters"]["prepareEncryption"]["value"] is True
    # Who may unwrap the key: the AzureDatabricks app (before the workspace), then the disk set and DBFS identities.
    grants = [r for r in prod_plan.of_type(ROLE) if r.inputs["scope"] == key.id]
    principals = {r.inputs["principalId"] for r in grants}
    assert all(r.inputs["roleDefinitionId"].endswith(CRYPTO_USER) for r in grants)
    assert principals == {
        AZURE_DATABRICKS_APP["prod"],
        ws.outputs["managedDiskIdentity"]["principalId"],
        ws.outputs["storageAccountIdentity"]["principalId"],
    }
    app_grant = next(r for r in grants if r.inputs["principalId"] == AZURE_DATABRICKS_APP["prod"])
    assert app_grant.urn in ws.dependencies


def test_dev_workspace_uses_platform_managed_keys(dev_plan: Plan) -> None:
    ws = only(dev_plan, WORKSPACE)
    assert "encryption" not in ws.inputs
    assert not dev_plan.of_type(KEY)


def test_secret_scope_reader_is_the_azure_databricks_app_on_the_vault(stack_plan: Plan) -> None:
    vault = only(stack_plan, "azure-native:keyvault:Vault")
    (grant,) = [
        r
        for r in stack_plan.of_type(ROLE)
        if r.inputs["roleDefinitionId"].endswith(SECRETS_USER) and r.inputs["scope"] == vault.id
    ]
    assert grant.inputs["principalId"] == AZURE_DATABRICKS_APP[stack_plan.stack]
    (scope,) = stack_plan.of_type("databricks:index/secretScope:SecretScope")
    assert scope.inputs["backendType"] == "AZURE_KEYVAULT"
    dns_name = f"https://{vault.inputs['vaultName']}.vault.azure.net/"
    assert scope.inputs["keyvaultMetadata"] == {"resourceId": vault.id, "dnsName": dns_name}


# ----------------------------------------------------------------------------- provider


def test_provider_is_built_from_the_workspace_outputs(stack_plan: Plan) -> None:
    ws = only(stack_plan, WORKSPACE)
    provider = workspace_provider(stack_plan)
    assert provider.inputs["host"] == f"https://{ws.outputs['workspaceUrl']}"
    assert provider.inputs["azureWorkspaceResourceId"] == ws.id
    assert provider.property_dependencies["host"] == [ws.urn]
    assert provider.property_dependencies["azureWorkspaceResourceId"] == [ws.urn]
    assert provider.inputs["authType"] == "github-oidc-azure"
    assert "token" not in provider.inputs and "password" not in provider.inputs


def test_provider_inputs_are_unknown_until_the_workspace_exists(prod_preview_plan: Plan) -> None:
    ws = only(prod_preview_plan, WORKSPACE)
    provider = workspace_provider(prod_preview_plan)
    assert provider.inputs["host"] == UNKNOWN and provider.inputs["azureWorkspaceResourceId"] == UNKNOWN
    assert provider.property_dependencies["host"] == [ws.urn]


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_every_databricks_object_goes_through_that_provider_under_its_component(
    preview: bool, prod_plan: Plan, prod_preview_plan: Plan
) -> None:
    plan = prod_preview_plan if preview else prod_plan
    provider, account = workspace_provider(plan), account_provider(plan)
    components = {r.urn: r.type for r in plan.resources if not r.custom}
    objects = [r for r in plan.resources if r.type.startswith("databricks:")]
    assert len(objects) > 20
    for r in objects:
        expected = account if r.type in ACCOUNT_LEVEL else provider
        assert _provider_urn(r.provider) == expected.urn, r.name
        # Under a platform component, never loose in the stack (later layers, e.g. dashboards, add their own).
        assert components.get(r.parent or "", "").startswith("rta:platform:"), r.name
    ours = {"rta:platform:UnityCatalog", "rta:platform:DatabricksRuntime", "rta:platform:StreamingJobs"}
    for kind in (*UC_TYPES, JOB, FILE, POLICY, SP):
        for r in plan.of_type(kind):
            assert components[r.parent or ""] in ours, r.name
    for kind in ACCOUNT_LEVEL:
        # The workspace's own enablement: metastore, the deployer's admin role.
        assert components[only(plan, kind).parent or ""] == "rta:platform:DatabricksWorkspace", kind
    assert components[provider.parent or ""] == "rta:platform:DatabricksWorkspace"
    assert components[account.parent or ""] == "rta:platform:DatabricksWorkspace"
    assert components[only(plan, WORKSPACE).parent or ""] == "rta:platform:DatabricksWorkspace"


# ----------------------------------------------------------------------------- Unity Catalog


def test_the_configured_metastore_is_assigned_to_this_workspace(stack_plan: Plan) -> None:
    ws = only(stack_plan, WORKSPACE)
    assignment = only(stack_plan, ASSIGNMENT)
    assert assignment.inputs["metastoreId"] == _dev_section("databricks")["metastoreId"]
    assert assignment.inputs["workspaceId"] == ws.outputs["workspaceId"]
    assert assignment.property_dependencies["workspaceId"] == [ws.urn]
    assert not stack_plan.of_type("databricks:index/metastore:Metastore"), "the region's metastore is never created"
    # An account call (no workspace login needed), kept when the stack stops managing it.
    assert _provider_urn(assignment.provider) == account_provider(stack_plan).urn
    assert assignment.options.get("retainOnDelete") is True
    # The first call to the workspace waits for its private endpoints' DNS.
    dns_groups = {g.urn for g in stack_plan.of_type(DNS_GROUP) if "databricks-pe" in g.name}
    admin = only(stack_plan, ADMIN_ASSIGNMENT)
    waits_for = PlanIndex(stack_plan).ancestors
    for r in stack_plan.resources:
        if r.type.startswith("databricks:") and r.type not in ACCOUNT_LEVEL:
            assert dns_groups and dns_groups <= waits_for(r), r.name
            assert admin.urn in waits_for(r), r.name


def test_every_unity_catalog_object_depends_on_the_metastore_assignment(stack_plan: Plan) -> None:
    assignment = only(stack_plan, ASSIGNMENT)
    objects = [r for t in UC_TYPES for r in stack_plan.of_type(t)]
    assert {r.type for r in objects} == set(UC_TYPES)
    for r in objects:
        assert assignment.urn in r.dependencies, r.name


def test_catalog_schemas_and_locations_form_the_medallion(stack_plan: Plan) -> None:
    account = stack_plan.one("azure-native:storage:StorageAccount", "datalake-st").inputs["accountName"]
    catalog = only(stack_plan, CATALOG)
    assert catalog.inputs["name"] == f"rta_{stack_plan.stack}"
    assert catalog.inputs["isolationMode"] == "ISOLATED"
    schemas = {s.inputs["name"]: s for s in stack_plan.of_type(SCHEMA)}
    assert set(schemas) == {"bronze", "silver", "gold", "smoke"}
    locations = {loc.inputs["name"].rsplit("_", 1)[-1]: loc for loc in stack_plan.of_type(LOCATION)}
    assert set(locations) == {"bronze", "silver", "gold", "checkpoints"}
    credential = only(stack_plan, STORAGE_CREDENTIAL)
    for key, loc in locations.items():
        assert loc.inputs["url"] == f"abfss://{key}@{account}.dfs.core.windows.net/"
        assert loc.inputs["credentialName"] == credential.inputs["name"]
        assert loc.inputs["isolationMode"] == "ISOLATION_MODE_ISOLATED"
    for layer, schema in schemas.items():
        assert schema.inputs["catalogName"] == catalog.inputs["name"]
        # The smoke job's scratch schema lives under gold's location.
        assert schema.inputs["storageRoot"].startswith(locations[layer if layer != "smoke" else "gold"].inputs["url"])
    connector = only(stack_plan, CONNECTOR)
    assert credential.inputs["azureManagedIdentity"]["accessConnectorId"] == connector.id
    assert "azureServicePrincipal" not in credential.inputs


def test_grants_are_least_privilege(stack_plan: Plan) -> None:
    sp = only(stack_plan, SP)
    writer = sp.outputs["applicationId"]
    read_only = {"USE_CATALOG", "USE_SCHEMA", "SELECT"}
    grants = stack_plan.of_type(GRANTS)
    assert len(grants) >= 5
    seen_groups = set()
    for g in grants:
        for entry in g.inputs["grants"]:
            privileges = set(entry["privileges"])
            assert "ALL_PRIVILEGES" not in privileges and "MANAGE" not in privileges, g.name
            assert entry["principal"].lower() not in BROAD, g.name
            if entry["principal"] != writer:
                seen_groups.add(entry["principal"])
                assert privileges <= read_only, (g.name, entry)
    assert seen_groups, "config groups were granted nothing"
    # Only the writer writes, and only where it must.
    checkpoints = stack_plan.one(GRANTS, "unity-catalog-grants-location-checkpoints")
    assert checkpoints.inputs["grants"] == [{"principal": writer, "privileges": ["READ_FILES", "WRITE_FILES"]}]
    gold = stack_plan.one(GRANTS, "unity-catalog-grants-schema-gold")
    consumers = _dev_section("databricks")["grants"]["consumers"] if stack_plan.stack == "dev" else None
    if consumers:
        assert {e["principal"] for e in gold.inputs["grants"]} >= set(consumers)
    bronze = stack_plan.one(GRANTS, "unity-catalog-grants-schema-bronze")
    assert not (set(consumers or ()) & {e["principal"] for e in bronze.inputs["grants"]}), "consumers read gold only"
    # The smoke job's scratch schema: the writer alone, no group reads it.
    scratch = stack_plan.one(GRANTS, "unity-catalog-grants-schema-smoke")
    assert [e["principal"] for e in scratch.inputs["grants"]] == [writer]


def test_broad_principals_cannot_be_granted_from_config() -> None:
    grants = {**_dev_section("databricks")["grants"], "analysts": ["account users"]}
    section = {**_dev_section("databricks"), "grants": grants}
    with pytest.raises(StackProgramError) as info:
        run_stack("dev", preview=True, config_overrides={f"{NS}:databricks": section})
    assert "account users" in str(info.value.cause) and "analysts" in str(info.value.cause)


def test_service_credential_gives_jobs_the_processor_identity_without_a_secret(stack_plan: Plan) -> None:
    credential = only(stack_plan, CREDENTIAL)
    assert credential.inputs["purpose"] == "SERVICE"
    assert credential.inputs["azureManagedIdentity"]["accessConnectorId"] == only(stack_plan, CONNECTOR).id
    grant = stack_plan.one(GRANTS, "unity-catalog-grants-processor-credential")
    assert grant.inputs["credential"] == credential.inputs["name"]
    writer = only(stack_plan, SP).outputs["applicationId"]
    assert grant.inputs["grants"] == [{"principal": writer, "privileges": ["ACCESS"]}]


# ----------------------------------------------------------------------------- runtime guard rails


def test_cluster_policies_pin_runtime_access_mode_size_and_tags(stack_plan: Plan) -> None:
    cfg = _dev_section("databricks")["clusterPolicy"] if stack_plan.stack == "dev" else None
    policies = {p.name.rsplit("-", 1)[-1]: json.loads(p.inputs["definition"]) for p in stack_plan.of_type(POLICY)}
    assert set(policies) == {"jobs", "interactive"}
    for d in policies.values():
        assert d["spark_version"]["type"] == "fixed"
        assert d["autoscale.max_workers"]["type"] == "range"
        assert d["custom_tags.project"] == {"type": "fixed", "value": "rta-platform"}
        assert d["custom_tags.environment"] == {"type": "fixed", "value": stack_plan.stack}
        if cfg:
            assert d["spark_version"]["value"] == cfg["sparkVersion"]
            assert d["autoscale.max_workers"]["maxValue"] == cfg["maxWorkers"]
        # The semantics the tests run with, fixed for every cluster under the policies.
        for key, value in SPARK_SEMANTICS.items():
            assert d[f"spark_conf.{key}"] == {"type": "fixed", "value": value}, key
    assert policies["jobs"]["data_security_mode"] == {"type": "fixed", "value": "SINGLE_USER"}
    assert set(policies["interactive"]["data_security_mode"]["values"]) <= {"SINGLE_USER", "USER_ISOLATION"}
    assert policies["interactive"]["autotermination_minutes"]["maxValue"] <= 240
    if cfg:
        assert policies["interactive"]["autotermination_minutes"]["maxValue"] == cfg["autoterminationMinutes"]


def test_personal_access_tokens_are_off_and_workspace_is_hardened(stack_plan: Plan) -> None:
    (conf,) = stack_plan.of_type("databricks:index/workspaceConf:WorkspaceConf")
    custom = conf.inputs["customConfig"]
    assert custom["enableTokensConfig"] == "false"
    assert custom["enableResultsDownloading"] == "false" and custom["enableExportNotebook"] == "false"
    assert custom["enableVerboseAuditLogs"] == "true"
    (restrict,) = stack_plan.of_type("databricks:index/restrictWorkspaceAdminsSetting:RestrictWorkspaceAdminsSetting")
    assert restrict.inputs["restrictWorkspaceAdmins"]["status"] == "RESTRICT_TOKENS_AND_JOB_RUN_AS"
    (dbfs,) = stack_plan.of_type("databricks:index/disableLegacyDbfsSetting:DisableLegacyDbfsSetting")
    assert dbfs.inputs["disableLegacyDbfs"]["value"] is True
    assert not stack_plan.of_type("databricks:index/token:Token")


def test_pat_lifetime_is_capped_when_tokens_are_enabled_in_dev() -> None:
    section = {**_dev_section("databricks"), "personalAccessTokens": {"enabled": True, "maxLifetimeDays": 3}}
    plan = run_stack("dev", preview=True, config_overrides={f"{NS}:databricks": section})
    (conf,) = plan.of_type("databricks:index/workspaceConf:WorkspaceConf")
    assert conf.inputs["customConfig"]["enableTokensConfig"] == "true"
    assert conf.inputs["customConfig"]["maxTokenLifetimeDays"] == "3"


# ----------------------------------------------------------------------------- jobs


def test_every_manifest_job_is_a_continuous_job(dev_jobs_plan: Plan) -> None:
    jobs = {j.inputs["name"]: j for j in dev_jobs_plan.of_type(JOB)}
    batch = {
        "rta-dev-runtime-smoke",
        "rta-dev-delta-maintenance",
        "rta-dev-run-window-open",
        "rta-dev-run-window-close",
    }
    assert set(jobs) == {f"rta-dev-{key}" for key in JOBS} | batch
    for name in batch:
        del jobs[name]
    emails = _dev_section("databricks")["jobs"]["failureEmails"]
    for job in jobs.values():
        assert job.inputs["continuous"]["pauseStatus"] == "UNPAUSED"
        assert job.inputs["controlRunState"] is True
        assert job.inputs["maxConcurrentRuns"] == 1
        assert job.inputs["emailNotifications"]["onFailures"] == emails
        (task,) = job.inputs["tasks"]
        # #31 case 10: no dead retry knobs; the continuous trigger restarts a failed run with back-off.
        assert "taskRetryMode" not in job.inputs["continuous"]
        assert not {"maxRetries", "minRetryIntervalMillis"} & set(task)
        assert task["jobClusterKey"] == job.inputs["jobClusters"][0]["jobClusterKey"]


def test_the_runtime_smoke_job_runs_on_demand_on_the_streaming_jobs_cluster(dev_jobs_plan: Plan) -> None:
    smoke = dev_jobs_plan.one(JOB, f"streaming-jobs-{SMOKE_JOB.key}")
    stream = dev_jobs_plan.one(JOB, "streaming-jobs-silver")
    assert smoke.inputs["name"] == "rta-dev-runtime-smoke"
    # No schedule, no continuous run, no retries: a failed check fails the run once, loudly.
    assert not {"continuous", "schedule", "trigger"} & set(smoke.inputs)
    (task,) = smoke.inputs["tasks"]
    assert task["maxRetries"] == 0
    assert smoke.inputs["maxConcurrentRuns"] == 1
    # The same failure mail; the streaming backlog mail (operations' SLO) is for the streams only.
    stream_mail = {k: v for k, v in stream.inputs["emailNotifications"].items() if k != "onStreamingBacklogExceededs"}
    assert smoke.inputs["emailNotifications"] == stream_mail
    # Exactly the streaming jobs' cluster (runtime, policy, spark_conf) and identity.
    assert smoke.inputs["jobClusters"] == stream.inputs["jobClusters"]
    assert smoke.inputs["runAs"] == stream.inputs["runAs"]
    files = {f.inputs["source"]: f for f in dev_jobs_plan.of_type(FILE)}
    assert task["sparkPythonTask"]["pythonFile"] == files[SMOKE_JOB.entry_file].outputs["workspacePath"]
    params = job_params(smoke)
    assert set(params) == set(SMOKE_JOB.required_params)
    assert params["--catalog"] == dev_jobs_plan.outputs["databricksCatalog"]
    assert params["--scratch-schema"] == "smoke"
    assert params["--checkpoint-root"].endswith(f"/{SMOKE_JOB.key}")
    # The deploy pipeline finds it among the exported job ids (tools/run_smoke_job.py).
    assert dev_jobs_plan.outputs["databricksJobIds"][SMOKE_JOB.key] == smoke.id


def test_the_delta_maintenance_job_runs_nightly_on_the_uploaded_entry_under_the_job_policy(
    stack_plan: Plan, jobs_plans: dict[str, Plan]
) -> None:
    plan = jobs_plans[stack_plan.stack]
    job = plan.one(JOB, f"streaming-jobs-{MAINTENANCE_JOB.key}")
    stream = plan.one(JOB, "streaming-jobs-silver")
    assert job.inputs["name"] == f"rta-{stack_plan.stack}-delta-maintenance"
    # Scheduled, never continuous: once a night in UTC (Quartz: second minute hour day month weekday).
    assert "continuous" not in job.inputs
    schedule = job.inputs["schedule"]
    assert schedule["timezoneId"] == "UTC" and schedule["pauseStatus"] == "UNPAUSED"
    second, minute, hour, day, month, weekday = schedule["quartzCronExpression"].split()
    assert (day, month, weekday) == ("*", "*", "?") and all(f.isdigit() for f in (second, minute, hour))
    assert job.inputs["maxConcurrentRuns"] == 1 and 0 < job.inputs["timeoutSeconds"] < 86400
    # Its entry file is uploaded with its content hash, and the job waits for it.
    files = {f.inputs["source"]: f for f in plan.of_type(FILE)}
    entry = files[MAINTENANCE_JOB.entry_file]
    assert len(entry.inputs["md5"]) == 32 and entry.urn in job.dependencies
    (task,) = job.inputs["tasks"]
    assert task["sparkPythonTask"]["pythonFile"] == entry.outputs["workspacePath"]
    assert task["maxRetries"] == 0
    # A job cluster under the job policy, as the streams' (the policy id is the jobs policy's).
    (cluster,) = job.inputs["jobClusters"]
    policy = plan.one(POLICY, "databricks-runtime-policy-jobs")
    assert cluster["newCluster"]["policyId"] == policy.id and cluster["newCluster"]["applyPolicyDefaultValues"]
    assert "existingClusterId" not in task
    assert job.inputs["runAs"] == stream.inputs["runAs"]
    # Parameters: the catalog's schemas, bronze's retention from config, VACUUM past the stream's retention.
    params = job_params(job)
    assert set(params) == set(MAINTENANCE_JOB.required_params)
    assert params["--catalog"] == plan.outputs["databricksCatalog"]
    assert (params["--bronze-schema"], params["--silver-schema"], params["--gold-schema"]) == (
        "bronze",
        "silver",
        "gold",
    )
    values, _ = stack_config_values(stack_plan.stack)
    retention = json.loads(values.get(f"{NS}:capacity", "{}")).get("retention", {})
    assert int(params["--hot-days"]) == retention.get("bronzeHotDays", 90)
    assert int(params["--cold-days"]) == retention.get("bronzeColdDays", 730)
    (hub,) = [h for h in json.loads(values[f"{NS}:eventHubs"])["hubs"] if h["name"] == "trades"]
    assert int(params["--stream-retention-hours"]) == hub["retentionHours"]
    assert int(params["--vacuum-hours"]) > max(MIN_VACUUM_HOURS, hub["retentionHours"])
    assert plan.outputs["databricksJobIds"][MAINTENANCE_JOB.key] == job.id


def test_each_job_task_runs_a_file_the_stack_uploads(dev_jobs_plan: Plan) -> None:
    files = {f.inputs["source"]: f for f in dev_jobs_plan.of_type(FILE)}
    for key, spec in JOBS.items():
        job = dev_jobs_plan.one(JOB, f"streaming-jobs-{key}")
        entry = files[spec.entry_file]
        (task,) = job.inputs["tasks"]
        assert task["sparkPythonTask"]["pythonFile"] == entry.outputs["workspacePath"]
        assert task["sparkPythonTask"]["source"] == "WORKSPACE"
        assert entry.urn in job.property_dependencies["tasks"]
        assert entry.urn in job.dependencies
        params = job_params(job)
        assert set(spec.required_params) <= set(params), key
        assert set(params) <= set(spec.required_params) | set(spec.optional_params), key
    # The whole package goes up (the entry files import it), each file with its content hash.
    assert {"streaming_jobs/__init__.py", "streaming_jobs/manifest.py"} <= set(files)
    for f in files.values():
        assert len(f.inputs["md5"]) == 32 and not f.inputs["source"].startswith("/")


def test_jobs_run_as_the_service_principal_under_the_cluster_policy(
    stack_plan: Plan, jobs_plans: dict[str, Plan]
) -> None:
    plan = jobs_plans[stack_plan.stack]
    sp = only(plan, SP)
    policy = plan.one(POLICY, "databricks-runtime-policy-jobs")
    for job in plan.of_type(JOB):
        assert job.inputs["runAs"] == {"servicePrincipalName": sp.outputs["applicationId"]}
        assert sp.urn in job.property_dependencies["runAs"]
        (cluster,) = job.inputs["jobClusters"]
        new = cluster["newCluster"]
        assert new["policyId"] == policy.id and new["applyPolicyDefaultValues"] is True
        assert new["dataSecurityMode"] == "SINGLE_USER"
        assert new["sparkVersion"] == json.loads(policy.inputs["definition"])["spark_version"]["value"]
        # The runtime is on the line the tests run, and the cluster carries the semantics they run with (and,
        # where the job keeps state, Databricks' RocksDB state store).
        assert spark_line(runtime_spark_version(new["sparkVersion"])) == SPARK_LINE
        spec = EVERY_JOB[job.inputs["tasks"][0]["sparkPythonTask"]["parameters"][0]]  # the entry's job key
        assert new["sparkConf"] == {**SPARK_SEMANTICS, **(STATEFUL_CLUSTER_CONF if spec.stateful else {})}
        assert "existingClusterId" not in job.inputs["tasks"][0]
    (use,) = [p for p in plan.of_type(PERMISSIONS) if p.inputs.get("clusterPolicyId") == policy.id]
    assert use.inputs["accessControls"] == [
        {"servicePrincipalName": sp.outputs["applicationId"], "permissionLevel": "CAN_USE"}
    ]
    # CAN_MANAGE only where a run window (dev) lets the jobs' principal pause its continuous jobs
    # (tests/test_run_window.py); never for a person, never elsewhere.
    windowed = any("run-window" in j.inputs["name"] for j in plan.of_type(JOB))
    continuous = {j.id for j in plan.of_type(JOB) if "continuous" in j.inputs}
    for perm in plan.of_type(PERMISSIONS):
        for ac in perm.inputs["accessControls"]:
            if ac["permissionLevel"] == "CAN_MANAGE":
                assert windowed and perm.inputs.get("jobId") in continuous, perm.name
                assert ac == {"servicePrincipalName": sp.outputs["applicationId"], "permissionLevel": "CAN_MANAGE"}


def _cluster(plan: Plan, key: str) -> dict[str, Any]:
    (cluster,) = plan.one(JOB, f"streaming-jobs-{key}").inputs["jobClusters"]
    return dict(cluster["newCluster"])


def test_each_stage_runs_on_the_cluster_the_capacity_model_sizes(scale_plan: Plan) -> None:
    from stack_config import capacity_model, parse_stack_config

    raw = raw_stack_config("scale")
    config = parse_stack_config(raw, "scale")
    report = capacity_model.report(config)
    assert report is not None and not report.failures
    needed = {c.key: c.needed for c in report.checks if c.unit == "workers"}
    policy = json.loads(scale_plan.one(POLICY, "databricks-runtime-policy-jobs").inputs["definition"])
    shapes = {s.stage: s for s in capacity_model.stage_shapes(config)}
    assert set(shapes) == {"bronze", "silver", "gold"}
    for stage, shape in shapes.items():
        new = _cluster(scale_plan, stage)
        assert new["nodeTypeId"] == new["driverNodeTypeId"] == shape.node_type
        assert new["autoscale"] == {"minWorkers": shape.min_workers, "maxWorkers": shape.max_workers}
        # Enough workers for the design load, within the job policy, and a real autoscaling range.
        assert shape.max_workers >= needed[shape.key] and shape.min_workers < shape.max_workers
        assert shape.max_workers <= policy["autoscale.max_workers"]["maxValue"]
        assert shape.node_type in policy["node_type_id"]["values"]
    # Stages differ: gold's node type is the stack's override, bronze's the model's pick from the policy.
    assert shapes["gold"].node_type == raw["databricks"]["compute"]["gold"]["nodeType"]
    assert shapes["bronze"].node_type == raw["databricks"]["clusterPolicy"]["nodeTypes"][0]
    assert shapes["bronze"].max_workers > shapes["gold"].max_workers
    # The smoke job runs silver's and gold's code on silver's shape.
    assert _cluster(scale_plan, SMOKE_JOB.key)["autoscale"] == _cluster(scale_plan, "silver")["autoscale"]


def test_state_store_and_photon_per_stage(scale_plan: Plan) -> None:
    for key, spec in ALL_JOBS.items():
        new = _cluster(scale_plan, key)
        # Explicit either way: the Jobs API leaves Photon off unless runtime_engine says PHOTON.
        assert new["runtimeEngine"] == ("PHOTON" if spec.photon else "STANDARD"), key
        assert (new["sparkConf"].get(STATE_STORE_PROVIDER) == DATABRICKS_ROCKSDB) is spec.stateful, key
    # Photon where it pays: the maintenance MERGE/DELETE/OPTIMIZE; never on a stateful stream it cannot run.
    assert _cluster(scale_plan, MAINTENANCE_JOB.key)["runtimeEngine"] == "PHOTON"
    assert {k for k, spec in JOBS.items() if spec.stateful} == {"silver", "gold"}
    assert not any(spec.photon and spec.stateful for spec in ALL_JOBS.values())


def test_spot_is_a_named_choice_with_the_driver_on_demand(dev_plan: Plan, prod_plan: Plan) -> None:
    for plan in (dev_plan, prod_plan):
        spot = raw_stack_config(plan.stack)["databricks"]["compute"]["spot"]
        expected = (
            {"availability": "SPOT_WITH_FALLBACK_AZURE", "firstOnDemand": 1, "spotBidMaxPrice": -1}
            if spot
            else {"availability": "ON_DEMAND_AZURE"}
        )
        for job in plan.of_type(JOB):
            assert job.inputs["jobClusters"][0]["newCluster"]["azureAttributes"] == expected, (plan.stack, job.name)
        # Both cluster policies fix the same choice, so no cluster under them can differ.
        for policy in plan.of_type(POLICY):
            d = json.loads(policy.inputs["definition"])
            fixed = {k.removeprefix("azure_attributes."): v["value"] for k, v in d.items() if "azure_attributes" in k}
            assert {_camel(k): v for k, v in fixed.items()} == expected, (plan.stack, policy.name)
    # The two sides are both shown: dev on spot, prod all on demand.
    assert [raw_stack_config(s)["databricks"]["compute"]["spot"] for s in ("dev", "prod")] == [True, False]


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


def test_job_parameters_come_from_pulumi_outputs(dev_jobs_plan: Plan) -> None:
    outputs = dev_jobs_plan.outputs
    account = dev_jobs_plan.one("azure-native:storage:StorageAccount", "datalake-st").inputs["accountName"]
    bronze = job_params(dev_jobs_plan.one(JOB, "streaming-jobs-bronze"))
    assert bronze["--kafka-bootstrap-servers"] == outputs["kafkaBootstrapServers"]
    assert bronze["--kafka-topic"] == outputs["kafkaTopic"] == "trades"
    assert bronze["--kafka-auth"] == "entra-service-credential"
    assert bronze["--service-credential"] == only(dev_jobs_plan, CREDENTIAL).inputs["name"]
    assert bronze["--catalog"] == outputs["databricksCatalog"]
    gold = job_params(dev_jobs_plan.one(JOB, "streaming-jobs-gold"))
    assert gold["--sql-server"] == outputs["sqlServerFqdn"]
    rules = json.loads(gold["--alert-rules"])
    assert [r["name"] for r in rules] == [r["name"] for r in _dev_section("databricks")["streaming"]["alertRules"]]
    silver = job_params(dev_jobs_plan.one(JOB, "streaming-jobs-silver"))
    assert silver["--symbols"] == ",".join(_dev_section("databricks")["streaming"]["symbols"])
    for key in JOBS:
        params = job_params(dev_jobs_plan.one(JOB, f"streaming-jobs-{key}"))
        assert params["--checkpoint-root"] == f"abfss://checkpoints@{account}.dfs.core.windows.net/dev/{key}"
    window = {f"{RUN_WINDOW_JOB.key}_open", f"{RUN_WINDOW_JOB.key}_close"}  # dev's databricks.jobs.runWindow
    assert outputs["databricksJobIds"].keys() == {*JOBS, SMOKE_JOB.key, MAINTENANCE_JOB.key, *window}


def test_changed_job_code_changes_the_upload_hash_but_not_the_checkpoints(
    tmp_path: Path, snapshot: Path, snapshot_dev_plan: Plan
) -> None:
    entry = JOBS["bronze"].entry_file

    def edit(root: Path) -> None:
        with (root / entry).open("a") as f:
            f.write("\n# a code change\n")

    dev_jobs_plan = snapshot_dev_plan
    changed = run_stack("dev", preview=False, root=_copy_repo(snapshot, tmp_path / "rta-platform", edit))
    before = {f.inputs["source"]: f.inputs for f in dev_jobs_plan.of_type(FILE)}
    after = {f.inputs["source"]: f.inputs for f in changed.of_type(FILE)}
    assert before.keys() == after.keys()
    assert before[entry]["md5"] != after[entry]["md5"]
    assert before[entry]["path"] == after[entry]["path"], "the upload path is stable"
    assert {k: v for k, v in before.items() if k != entry} == {k: v for k, v in after.items() if k != entry}
    assert changed.outputs["streamingJobsCodeHash"] != dev_jobs_plan.outputs["streamingJobsCodeHash"]
    for key in JOBS:
        old, new = dev_jobs_plan.one(JOB, f"streaming-jobs-{key}"), changed.one(JOB, f"streaming-jobs-{key}")
        # The jobs change (and control_run_state restarts their runs on the new code) ...
        assert old.inputs["tags"]["code_hash"] != new.inputs["tags"]["code_hash"]
        # ... but every parameter, checkpoints included, stays: the streams resume where they stopped.
        assert job_params(old) == job_params(new)
        assert new.inputs["tags"]["code_hash"] not in job_params(new)["--checkpoint-root"]


def test_unchanged_code_gives_identical_upload_inputs(jobs_plans: dict[str, Plan], prod_plan: Plan) -> None:
    # Same code, different stacks: the hash inputs agree, so nothing is re-uploaded without a change.
    dev = {f.inputs["source"]: f.inputs["md5"] for f in jobs_plans["dev"].of_type(FILE)}
    prod = {f.inputs["source"]: f.inputs["md5"] for f in jobs_plans["prod"].of_type(FILE)}
    assert dev == prod


def test_job_code_is_uploaded_where_only_the_job_principal_and_admins_can_change_it(dev_jobs_plan: Plan) -> None:
    sp = only(dev_jobs_plan, SP)
    for f in dev_jobs_plan.of_type(FILE):
        assert f.inputs["path"].startswith(f"{sp.outputs['home']}/rta-platform/"), f.inputs["path"]
        assert not f.inputs["path"].startswith("/Shared")


def test_first_preview_shows_the_databricks_layer_under_its_components(dev_preview_plan: Plan) -> None:
    kinds = {r.type for r in dev_preview_plan.resources if not r.custom}
    assert {
        "rta:platform:DatabricksWorkspace",
        "rta:platform:UnityCatalog",
        "rta:platform:DatabricksRuntime",
        "rta:platform:StreamingJobs",
    } <= kinds
    assert dev_preview_plan.outputs["databricksWorkspaceUrl"] == "(known after apply)"


# ----------------------------------------------------------------------------- config


def _databricks(**changes: Any) -> dict[str, Any]:
    section = _dev_section("databricks")
    for path, value in changes.items():
        target = section
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        target[leaf] = value
    return {f"{NS}:databricks": section}


BROKEN: list[tuple[str, str, dict[str, Any], str]] = [
    ("metastore id is not a uuid", "dev", _databricks(metastoreId="main-metastore"), f"{NS}:databricks.metastoreId"),
    (
        "public front end without an allow list",
        "dev",
        _databricks(allowPublicFrontEnd=True),
        "publicFrontEndAllowedIps must list the CIDRs",
    ),
    (
        "allow list open to the internet",
        "dev",
        _databricks(allowPublicFrontEnd=True, publicFrontEndAllowedIps=["0.0.0.0/0"]),
        "opens the workspace",
    ),
    (
        "min workers above max workers",
        "dev",
        _databricks(clusterPolicy__minWorkers=5, clusterPolicy__maxWorkers=2),
        "minWorkers 5 must be below maxWorkers 2",
    ),
    (
        "min workers equal to max workers (no autoscaling range)",
        "dev",
        _databricks(clusterPolicy__minWorkers=2, clusterPolicy__maxWorkers=2),
        "minWorkers 2 must be below maxWorkers 2",
    ),
    (
        "runtime on another Spark line than the tests",
        "dev",
        _databricks(clusterPolicy__sparkVersion="16.4.x-scala2.12"),
        "runs Apache Spark 3.5.2, but the jobs are tested on Spark 4.0",
    ),
    (
        "runtime the release notes table does not know",
        "dev",
        _databricks(clusterPolicy__sparkVersion="17.1.x-scala2.13"),
        "Databricks Runtime 17.1 is not one of the LTS runtimes",
    ),
    (
        "runtime too old for service credentials",
        "dev",
        _databricks(clusterPolicy__sparkVersion="14.3.x-scala2.12"),
        "sparkVersion '14.3.x-scala2.12' is older than 16.1",
    ),
    ("no failure email", "dev", _databricks(jobs__failureEmails=[]), f"{NS}:databricks.jobs.failureEmails"),
    (
        "task retries on continuous jobs",
        "dev",
        _databricks(jobs__maxRetries=3),
        "databricks.jobs.maxRetries would have no effect: a continuous job takes no task retry policy",
    ),
    (
        "alert rule on an unknown symbol",
        "dev",
        _databricks(
            streaming__alertRules=[
                {"name": "x", "metric": "volume", "operator": ">", "threshold": 1, "symbols": ["GME"]}
            ]
        ),
        "alertRules[x].symbols ['GME']",
    ),
    ("bad watermark", "dev", _databricks(streaming__watermark="30s"), f"{NS}:databricks.streaming.watermark"),
    ("unknown provider auth", "dev", _databricks(providerAuth="pat"), f"{NS}:databricks.providerAuth"),
    (
        "OIDC auth without the deployer",
        "dev",
        {
            f"{NS}:databricks": {
                k: v for k, v in _dev_section("databricks").items() if k not in ("accountId", "deployer")
            }
        },
        "databricks.accountId and databricks.deployer are required with providerAuth 'github-oidc-azure'",
    ),
    (
        "deployer without the account",
        "dev",
        {f"{NS}:databricks": {k: v for k, v in _dev_section("databricks").items() if k != "accountId"}},
        "databricks.accountId and databricks.deployer go together",
    ),
    (
        "deployer id not numeric",
        "dev",
        _databricks(deployer__accountPrincipalId="sp-deploy"),
        f"{NS}:databricks.deployer.accountPrincipalId",
    ),
    (
        "unknown metastore assignment",
        "dev",
        _databricks(metastoreAssignment="import"),
        "databricks.metastoreAssignment",
    ),
    ("typo in a key", "dev", _databricks(allowPublicFrontend=True), f"{NS}:databricks.allowPublicFrontend"),
    (
        "public front end in prod",
        "prod",
        {
            f"{NS}:databricks": {
                **json.loads(stack_config_values("prod")[0][f"{NS}:databricks"]),
                "allowPublicFrontEnd": True,
                "publicFrontEndAllowedIps": ["203.0.113.0/24"],
            }
        },
        "databricks.allowPublicFrontEnd must be false in prod",
    ),
    (
        "DBFS root CMK without customer-managed keys",
        "dev",
        _databricks(encryptDbfsRoot=True),
        "databricks.encryptDbfsRoot needs encryption.customerManagedKeys true",
    ),
    ("prod without the processing layer", "prod", {f"{NS}:databricks": None}, "databricks is required in prod"),
]


@pytest.mark.parametrize(("case", "stack", "overrides", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_databricks_config_is_rejected_naming_the_key(
    case: str, stack: str, overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(StackProgramError) as info:
        run_stack(stack, preview=True, config_overrides=overrides)
    assert isinstance(info.value.cause, ConfigError), f"{case}: {info.value.cause!r}"
    assert expected in str(info.value.cause), str(info.value.cause)
    assert info.value.registered == 0


def test_dev_may_choose_a_public_front_end_explicitly() -> None:
    plan = run_stack(
        "dev",
        preview=True,
        config_overrides=_databricks(allowPublicFrontEnd=True, publicFrontEndAllowedIps=["203.0.113.0/24"]),
    )
    ws = only(plan, WORKSPACE)
    assert ws.inputs["publicNetworkAccess"] == "Enabled"
    assert ws.inputs["requiredNsgRules"] == "NoAzureDatabricksRules", "the back end stays private"
    (allow,) = plan.of_type("databricks:index/ipAccessList:IpAccessList")
    assert allow.inputs["listType"] == "ALLOW" and allow.inputs["ipAddresses"] == ["203.0.113.0/24"]
    groups = [g for pe in private_endpoints_for(plan, ws) for g in group_ids(pe)]
    assert "databricks_ui_api" in groups and "browser_authentication" not in groups


# ----------------------------------------------------------------------------- first deploy (#31 cases 1, 2, 9)


def test_the_deployer_is_made_workspace_admin_through_the_account(prod_plan: Plan) -> None:
    """github-oidc-azure sends no management token: admin comes from the account, after identity federation."""
    section = json.loads(stack_config_values("prod")[0][f"{NS}:databricks"])
    ws, account = only(prod_plan, WORKSPACE), account_provider(prod_plan)
    assert account.inputs["accountId"] == section["accountId"]
    assert account.inputs["authType"] == section["providerAuth"] == "github-oidc-azure"
    admin = only(prod_plan, ADMIN_ASSIGNMENT)
    assert admin.inputs["principalId"] == section["deployer"]["accountPrincipalId"]
    assert admin.inputs["permissions"] == ["ADMIN"]
    assert admin.inputs["workspaceId"] == ws.outputs["workspaceId"]
    assert _provider_urn(admin.provider) == account.urn
    # Principals can be assigned only to a workspace already assigned to a metastore.
    assert only(prod_plan, ASSIGNMENT).urn in admin.dependencies


def test_run_as_waits_for_the_deployers_service_principal_user_role(prod_plan: Plan) -> None:
    section = json.loads(stack_config_values("prod")[0][f"{NS}:databricks"])
    sp = only(prod_plan, SP)
    rule_set = only(prod_plan, RULE_SET)
    assert rule_set.inputs["name"] == (
        f"accounts/{section['accountId']}/servicePrincipals/{sp.outputs['applicationId']}/ruleSets/default"
    )
    deployer = f"servicePrincipals/{section['deployer']['applicationId']}"
    assert {"role": "roles/servicePrincipal.user", "principals": [deployer]} in rule_set.inputs["grantRules"]
    running_as = [r for r in prod_plan.resources if "runAs" in r.inputs]
    assert {r.type for r in running_as} == {JOB, "databricks:index/alertV2:AlertV2"}
    for r in running_as:
        assert rule_set.urn in r.property_dependencies["runAs"], r.name


@pytest.fixture(scope="module")
def auto_assigned_plan() -> Plan:
    """dev in a region where Databricks assigned the metastore when it created the workspace."""
    return run_stack("dev", preview=True, config_overrides=_databricks(metastoreAssignment="automatic"))


def test_an_automatically_assigned_workspace_gets_no_second_assignment(
    auto_assigned_plan: Plan, dev_plan: Plan
) -> None:
    assert len(dev_plan.of_type(ASSIGNMENT)) == 1
    assert auto_assigned_plan.of_type(ASSIGNMENT) == []
    admin, ws = only(auto_assigned_plan, ADMIN_ASSIGNMENT), only(auto_assigned_plan, WORKSPACE)
    assert ws.urn in admin.dependencies
    waits_for = PlanIndex(auto_assigned_plan).ancestors
    for r in auto_assigned_plan.resources:
        if r.type.startswith("databricks:") and r.type not in ACCOUNT_LEVEL:
            assert admin.urn in waits_for(r), r.name


def test_the_private_lake_lets_unity_catalog_in_as_the_access_connector(stack_plan: Plan) -> None:
    """#31 case 5: public network access is disabled, so the connector needs a resource instance rule."""
    lake = stack_plan.one("azure-native:storage:StorageAccount", "datalake-st")
    connector = only(stack_plan, CONNECTOR)
    assert lake.inputs["publicNetworkAccess"] == "Disabled"
    rules = lake.inputs["networkRuleSet"]["resourceAccessRules"]
    assert [r["resourceId"] for r in rules] == [connector.id]
    assert connector.urn in lake.property_dependencies["networkRuleSet"]
