"""The Azure SQL serving layer and the Power BI data source, asserted on the recorded plans.

Security settings, private endpoint and DNS zone group, TDE (service key in
dev, the vault's CMK in prod), auditing to Log Analytics, SKU and backups per
environment, the `.pbids` output, broken `sql` configs, and a scan of every
resource input and stack output of both stacks for passwords and connection
strings.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.power_bi import pbids_document, validate_pbids
from offline.engine import TENANT_ID, StackProgramError, run_stack, stack_config_values
from offline.plan import UNKNOWN, Plan
from stack_config import ConfigError
from tests.builtin_roles import CRYPTO_USER
from tests.plan_queries import (
    DIAG,
    LAW,
    ROLE,
    ZONE,
    all_strings,
    diagnostics_for,
    dig,
    group_ids,
    job_params,
    only,
    private_endpoints_for,
    zone_group_for,
)
from tools import write_pbids

NS = "rta-platform"
SERVER = "azure-native:sql:Server"
DATABASE = "azure-native:sql:Database"
TDE = "azure-native:sql:TransparentDataEncryption"
SERVER_KEY = "azure-native:sql:ServerKey"
PROTECTOR = "azure-native:sql:EncryptionProtector"
AUDITING = "azure-native:sql:ServerBlobAuditingPolicy"
ALERTS = "azure-native:sql:ServerSecurityAlertPolicy"
VULNERABILITY = "azure-native:sql:SqlVulnerabilityAssessmentsSetting"
STR = "azure-native:sql:BackupShortTermRetentionPolicy"
LTR = "azure-native:sql:LongTermRetentionPolicy"
FIREWALL = "azure-native:sql:FirewallRule"
KEY = "azure-native:keyvault:Key"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"


def _sql_config(stack: str) -> dict[str, Any]:
    values, _ = stack_config_values(stack)
    return json.loads(values[f"{NS}:sql"])


def _urn_names(plan: Plan, urns: list[str]) -> list[str]:
    by_urn = plan.by_urn()
    return [by_urn[u].name for u in urns if u in by_urn]


# --------------------------------------------------------------------------- the server


def test_server_is_entra_only_with_the_configured_admin_group(stack_plan: Plan) -> None:
    server = only(stack_plan, SERVER)
    admin_group = _sql_config(stack_plan.stack)["adminGroup"]
    assert server.inputs["administrators"] == {
        "administratorType": "ActiveDirectory",
        "azureADOnlyAuthentication": True,
        "login": admin_group["name"],
        "sid": admin_group["objectId"],
        "principalType": "Group",
        "tenantId": TENANT_ID,
    }
    # No SQL authentication admin exists at all: no login, no password.
    assert "administratorLogin" not in server.inputs
    assert "administratorLoginPassword" not in server.inputs
    # Entra-only is set at creation, not by a later ServerAzureADOnlyAuthentication switch.
    assert not stack_plan.of_type("azure-native:sql:ServerAzureADOnlyAuthentication")


def test_server_is_private_tls12_and_restricts_outbound(stack_plan: Plan) -> None:
    server = only(stack_plan, SERVER)
    assert server.inputs["minimalTlsVersion"] == "1.2"
    assert server.inputs["publicNetworkAccess"] == "Disabled"
    assert server.inputs["restrictOutboundNetworkAccess"] == "Enabled"
    assert not stack_plan.of_type(FIREWALL), "a private server has no firewall rules"


def test_server_has_a_private_endpoint_registered_in_the_database_dns_zone(stack_plan: Plan) -> None:
    server = only(stack_plan, SERVER)
    endpoints = private_endpoints_for(stack_plan, server)
    assert len(endpoints) == 1
    pe = endpoints[0]
    assert group_ids(pe) == ["sqlServer"]
    zone_group = zone_group_for(stack_plan, pe)
    assert zone_group is not None and zone_group.inputs["name"] == "default"
    zones = {z.id: z.inputs["privateZoneName"] for z in stack_plan.of_type(ZONE)}
    configs = zone_group.inputs["privateDnsZoneConfigs"]
    assert [zones[c["privateDnsZoneId"]] for c in configs] == ["privatelink.database.windows.net"]
    subnet_ids = [
        r.id for r in stack_plan.of_type("azure-native:network:Subnet") if r.name.endswith("private-endpoints")
    ]
    assert pe.inputs["subnet"]["id"] in subnet_ids


def test_private_endpoint_and_zone_group_are_linked_by_dependency_in_a_first_preview(
    prod_preview_plan: Plan,
) -> None:
    server = only(prod_preview_plan, SERVER)
    pe = private_endpoints_for(prod_preview_plan, server)
    assert len(pe) == 1 and pe[0].inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == UNKNOWN
    zone_group = zone_group_for(prod_preview_plan, pe[0])
    assert zone_group is not None
    zone_deps = _urn_names(prod_preview_plan, zone_group.property_dependencies["privateDnsZoneConfigs"])
    assert zone_deps == ["network-dns-sqlServer"]


# --------------------------------------------------------------------------- encryption


def test_tde_is_explicitly_enabled_on_the_gold_database(stack_plan: Plan) -> None:
    tde = only(stack_plan, TDE)
    assert tde.inputs["state"] == "Enabled"
    assert tde.inputs["databaseName"] == only(stack_plan, DATABASE).inputs["databaseName"]


def test_dev_uses_the_service_managed_tde_key(dev_plan: Plan) -> None:
    server = only(dev_plan, SERVER)
    assert "keyId" not in server.inputs and "identity" not in server.inputs
    assert not dev_plan.of_type(SERVER_KEY) and not dev_plan.of_type(PROTECTOR)


def test_prod_protects_tde_with_the_vault_key_unwrapped_by_the_sql_identity(prod_plan: Plan) -> None:
    server = only(prod_plan, SERVER)
    sql_key = next(k for k in prod_plan.of_type(KEY) if k.inputs["keyName"] == "cmk-sql")
    versioned_uri = sql_key.outputs["keyUriWithVersion"]
    # The key is registered once (ServerKey), never also through the server's keyId: azure-native's
    # create refuses an existing server key or a non-default protector (#31 case 3).
    assert "keyId" not in server.inputs
    identity = next(i for i in prod_plan.of_type(IDENTITY) if i.name == "identities-sql")
    assert server.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.id]}
    assert server.inputs["primaryUserAssignedIdentityId"] == identity.id

    # The sql identity may wrap/unwrap with this key only, and the server waits for that grant.
    grants = [ra for ra in prod_plan.of_type(ROLE) if ra.inputs["principalId"] == identity.outputs["principalId"]]
    assert [(g.inputs["scope"], g.inputs["roleDefinitionId"].rsplit("/", 1)[-1]) for g in grants] == [
        (sql_key.id, CRYPTO_USER)
    ]
    assert grants[0].urn in server.dependencies

    vault, key, version = (
        versioned_uri.removeprefix("https://").split("/")[0].split(".")[0],
        "cmk-sql",
        (versioned_uri.rsplit("/", 1)[-1]),
    )
    server_key = only(prod_plan, SERVER_KEY)
    assert server_key.inputs["serverKeyType"] == "AzureKeyVault"
    assert server_key.inputs["uri"] == versioned_uri
    assert server_key.inputs["keyName"] == f"{vault}_{key}_{version}"
    protector = only(prod_plan, PROTECTOR)
    assert protector.inputs["encryptionProtectorName"] == "current"
    assert protector.inputs["serverKeyType"] == "AzureKeyVault"
    assert protector.inputs["serverKeyName"] == server_key.inputs["keyName"]
    assert protector.inputs["autoRotationEnabled"] is True
    # The database (and its TDE setting) is created only once the CMK protects the server.
    assert protector.urn in only(prod_plan, DATABASE).dependencies
    assert protector.urn in only(prod_plan, TDE).dependencies


# --------------------------------------------------------------------------- auditing and Defender


def test_server_audits_to_log_analytics_through_the_master_database(stack_plan: Plan) -> None:
    server, workspace = only(stack_plan, SERVER), only(stack_plan, LAW)
    auditing = only(stack_plan, AUDITING)
    assert auditing.inputs["state"] == "Enabled"
    assert auditing.inputs["isAzureMonitorTargetEnabled"] is True
    days = auditing.inputs["retentionDays"]
    assert days == 0 or days >= 90
    assert "storageAccountAccessKey" not in auditing.inputs and "storageEndpoint" not in auditing.inputs
    assert {"FAILED_DATABASE_AUTHENTICATION_GROUP", "BATCH_COMPLETED_GROUP"} <= set(
        auditing.inputs["auditActionsAndGroups"]
    )

    master = diagnostics_for(stack_plan, f"{server.id}/databases/master")
    assert len(master) == 1
    assert master[0].inputs["workspaceId"] == workspace.id
    assert {"category": "SQLSecurityAuditEvents", "enabled": True} in master[0].inputs["logs"]
    # The audit stream reaches the workspace before auditing is switched to Azure Monitor.
    assert master[0].urn in auditing.dependencies


def test_gold_database_sends_its_logs_and_metrics_to_the_workspace(stack_plan: Plan) -> None:
    database, workspace = only(stack_plan, DATABASE), only(stack_plan, LAW)
    settings = diagnostics_for(stack_plan, database.id or "")
    assert len(settings) == 1
    assert settings[0].inputs["workspaceId"] == workspace.id
    assert settings[0].inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert settings[0].inputs["metrics"] == [{"category": "AllMetrics", "enabled": True}]


def test_defender_alerts_and_vulnerability_assessment_are_on(stack_plan: Plan) -> None:
    alerts = only(stack_plan, ALERTS)
    assert alerts.inputs["state"] == "Enabled"
    assert alerts.inputs["disabledAlerts"] == []
    assert alerts.inputs["emailAccountAdmins"] is True
    assert only(stack_plan, VULNERABILITY).inputs["state"] == "Enabled"


def test_server_policies_name_the_server(stack_plan: Plan) -> None:
    server_name = only(stack_plan, SERVER).inputs["serverName"]
    for token in (DATABASE, TDE, AUDITING, ALERTS, VULNERABILITY, STR):
        for r in stack_plan.of_type(token):
            assert r.inputs["serverName"] == server_name, r.name


# --------------------------------------------------------------------------- SKU and backups


def test_dev_database_is_serverless_general_purpose_with_auto_pause(dev_plan: Plan) -> None:
    db = only(dev_plan, DATABASE)
    assert db.inputs["databaseName"] == "gold"
    assert db.inputs["sku"] == {"name": "GP_S_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 2}
    assert db.inputs["autoPauseDelay"] == 60
    assert db.inputs["minCapacity"] == 0.5
    assert db.inputs["zoneRedundant"] is False
    assert db.inputs["maxSizeBytes"] == 32 * 1024**3
    assert only(dev_plan, STR).inputs["retentionDays"] == 7
    assert not dev_plan.of_type(LTR)


def test_prod_database_is_zone_redundant_business_critical_with_long_term_retention(prod_plan: Plan) -> None:
    db = only(prod_plan, DATABASE)
    assert db.inputs["sku"] == {"name": "BC_Gen5", "tier": "BusinessCritical", "family": "Gen5", "capacity": 4}
    assert db.inputs["zoneRedundant"] is True
    assert db.inputs["requestedBackupStorageRedundancy"] == "GeoZone"
    assert db.inputs["readScale"] == "Enabled"
    assert "autoPauseDelay" not in db.inputs and "minCapacity" not in db.inputs
    short_term = only(prod_plan, STR)
    assert short_term.inputs["retentionDays"] == 35
    assert short_term.inputs["diffBackupIntervalInHours"] == 12
    ltr = only(prod_plan, LTR)
    assert (ltr.inputs["weeklyRetention"], ltr.inputs["monthlyRetention"], ltr.inputs["yearlyRetention"]) == (
        "P4W",
        "P12M",
        "P7Y",
    )
    assert ltr.inputs["weekOfYear"] == 1
    # Azure rejects concurrent backup-policy writes on one database.
    assert short_term.urn in ltr.dependencies


def test_serving_resources_sit_under_the_serving_component(stack_plan: Plan) -> None:
    component = next(r for r in stack_plan.resources if r.type == "rta:platform:SqlServing")
    children = {r.type for r in stack_plan.children_of(component.urn)}
    assert {SERVER, DATABASE, TDE, AUDITING, ALERTS, STR, DIAG, "azure-native:network:PrivateEndpoint"} <= children


# --------------------------------------------------------------------------- outputs and Power BI


def test_outputs_name_the_server_and_database_known_even_in_a_first_preview(
    stack_plan: Plan, dev_preview_plan: Plan, prod_preview_plan: Plan
) -> None:
    server, db = only(stack_plan, SERVER), only(stack_plan, DATABASE)
    assert stack_plan.outputs["sqlServerFqdn"] == server.outputs["fullyQualifiedDomainName"]
    assert stack_plan.outputs["sqlDatabaseName"] == db.inputs["databaseName"]
    preview = {"dev": dev_preview_plan, "prod": prod_preview_plan}[stack_plan.stack]
    for key in ("sqlServerFqdn", "sqlDatabaseName", "powerBiDataSource"):
        assert preview.outputs[key] == stack_plan.outputs[key]


def test_power_bi_data_source_is_a_valid_pbids_for_the_stacks_database(stack_plan: Plan) -> None:
    document = json.loads(stack_plan.outputs["powerBiDataSource"])
    assert validate_pbids(document) == []
    assert document == {
        "version": "0.1",
        "connections": [
            {
                "details": {
                    "protocol": "tds",
                    "address": {
                        "server": only(stack_plan, SERVER).outputs["fullyQualifiedDomainName"],
                        "database": only(stack_plan, DATABASE).inputs["databaseName"],
                    },
                },
                # Business Critical (prod) has a readable secondary: Power BI asks for read intent there.
                "options": {"MultiSubnetFailover": True} if stack_plan.stack == "prod" else {},
                "mode": "DirectQuery",
            }
        ],
    }
    database = only(stack_plan, DATABASE).inputs
    assert (database.get("readScale") == "Enabled") == (stack_plan.stack == "prod")


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "not a JSON object"),
        ({**pbids_document("s", "d"), "version": "1"}, "version"),
        ({"version": "0.1", "connections": []}, "exactly one connection"),
        (
            {
                "version": "0.1",
                "connections": [{"details": {"protocol": "tds", "address": {"server": "s"}}, "mode": "DirectQuery"}],
            },
            "address.database is missing",
        ),
        (
            {
                "version": "0.1",
                "connections": [
                    {
                        "details": {"protocol": "tds", "address": {"server": "s", "database": "d", "password": "x"}},
                        "mode": "DirectQuery",
                    }
                ],
            },
            "no credentials belong here",
        ),
        (
            {
                **pbids_document("s", "d"),
                "connections": [{**pbids_document("s", "d")["connections"][0], "options": {"Password": "x"}}],
            },
            "options may only hold",
        ),
    ],
)
def test_pbids_validation_catches_malformed_documents(document: Any, problem: str) -> None:
    assert any(problem in p for p in validate_pbids(document)), validate_pbids(document)


def test_write_pbids_from_the_offline_preview_plan(tmp_path: Path, prod_preview_plan: Plan) -> None:
    plan_file = tmp_path / "plan-prod.json"
    prod_preview_plan.write(plan_file)
    target = tmp_path / "gold.pbids"
    out = io.StringIO()
    assert write_pbids.main([str(plan_file), "-o", str(target)], out=out) == 0
    document = json.loads(target.read_text())
    assert validate_pbids(document) == []
    assert document == json.loads(prod_preview_plan.outputs["powerBiDataSource"])


def test_write_pbids_from_pulumi_stack_output(tmp_path: Path, dev_plan: Plan) -> None:
    # The shape of `pulumi stack output --json`: a flat map of outputs.
    stdin = io.StringIO(json.dumps(dev_plan.outputs))
    target = tmp_path / "dev.pbids"
    assert write_pbids.main(["-", "-o", str(target)], stdin=stdin, out=io.StringIO()) == 0
    address = json.loads(target.read_text())["connections"][0]["details"]["address"]
    assert address == {"server": dev_plan.outputs["sqlServerFqdn"], "database": "gold"}


def test_write_pbids_refuses_outputs_that_are_not_known(tmp_path: Path) -> None:
    out = io.StringIO()
    stdin = io.StringIO(json.dumps({"sqlServerFqdn": "(known after apply)", "sqlDatabaseName": "gold"}))
    assert write_pbids.main(["-", "-o", str(tmp_path / "x.pbids")], stdin=stdin, out=out) == 2
    assert "not known yet" in out.getvalue()
    out = io.StringIO()
    assert write_pbids.main(["-"], stdin=io.StringIO("{}"), out=out) == 2
    assert "rta-platform:sql configured" in out.getvalue()


# --------------------------------------------------------------------------- no secrets anywhere

# Keys that would carry a SQL password, a storage key or a connection string.
_SECRET_KEYS = re.compile(
    r"(password|passwd|pwd|connectionstring|accountkey|accesskey|sharedaccesskey|primarykey|secondarykey"
    r"|administratorlogin$)",
    re.IGNORECASE,
)
# Values that look like a connection string or a credential.
_SECRET_VALUES = re.compile(
    r"(password\s*=|pwd\s*=|accountkey\s*=|sharedaccesskey\s*=|sharedaccesssignature|user id\s*=|uid\s*=|"
    r"integrated security|server\s*=\s*tcp:|;\s*initial catalog\s*=|DefaultEndpointsProtocol=)",
    re.IGNORECASE,
)


def _secret_findings(where: str, value: Any, path: str = "") -> list[str]:
    findings = []
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270":
            findings.append(f"{where}{path}: a secret value")
        for key, child in value.items():
            if _SECRET_KEYS.search(str(key)):
                findings.append(f"{where}{path}.{key}: credential-like key")
            findings += _secret_findings(where, child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            findings += _secret_findings(where, child, f"{path}[{i}]")
    elif isinstance(value, str) and _SECRET_VALUES.search(value):
        findings.append(f"{where}{path}: connection-string-like value {value[:60]!r}")
    return findings


def test_the_scanner_finds_what_it_is_meant_to_find() -> None:
    assert _secret_findings("x", {"administratorLoginPassword": "p"})
    assert _secret_findings("x", {"administratorLogin": "sqladmin"})
    assert _secret_findings("x", {"a": ["Server=tcp:s.database.windows.net;Initial Catalog=g;Password=p"]})
    assert _secret_findings("x", {"c": "Endpoint=sb://n/;SharedAccessKeyName=k;SharedAccessKey=abc"})
    assert _secret_findings("x", {"c": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k"})
    assert not _secret_findings("x", {"server": "s.database.windows.net", "database": "gold"})


@pytest.mark.parametrize("mode", ["up", "preview"])
def test_no_password_or_connection_string_in_any_input_or_output(
    mode: str, dev_plan: Plan, prod_plan: Plan, dev_preview_plan: Plan, prod_preview_plan: Plan
) -> None:
    plans = [dev_plan, prod_plan] if mode == "up" else [dev_preview_plan, prod_preview_plan]
    findings: list[str] = []
    for plan in plans:
        for r in plan.resources:
            findings += _secret_findings(f"{plan.stack}:{r.type}:{r.name}.inputs", r.inputs)
        findings += _secret_findings(f"{plan.stack}:outputs", plan.outputs)
        # Stack outputs that are JSON documents (the .pbids) are scanned as documents too.
        for key, value in plan.outputs.items():
            if isinstance(value, str) and value.startswith("{"):
                findings += _secret_findings(f"{plan.stack}:outputs.{key}", json.loads(value))
    assert findings == []


def test_the_serving_outputs_carry_no_credential_words(stack_plan: Plan) -> None:
    text = " ".join(all_strings({k: v for k, v in stack_plan.outputs.items() if "sql" in k.lower() or "powerBi" in k}))
    for marker in ("password", "pwd=", "user id", "accountkey", "sharedaccesskey", "authentication="):
        assert marker not in text.lower()


# --------------------------------------------------------------------------- broken config


def _sql(stack: str = "dev", **changes: Any) -> dict[str, Any]:
    section = _sql_config(stack)
    for dotted, value in changes.items():
        target = section
        *parents, leaf = dotted.split("__")
        for parent in parents:
            target = target.setdefault(parent, {})
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return {f"{NS}:sql": section}


BROKEN_SQL: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "admin group object id is not a GUID",
        "dev",
        _sql(adminGroup__objectId="sql-admins"),
        f"{NS}:sql.adminGroup.objectId",
    ),
    (
        "admin group name could break T-SQL",
        "dev",
        _sql(adminGroup__name="admins]; DROP USER x; --"),
        f"{NS}:sql.adminGroup.name",
    ),
    ("missing admin group", "dev", _sql(adminGroup=None), f"{NS}:sql.adminGroup is required"),
    (
        "a SQL password is not a setting",
        "dev",
        _sql(administratorLoginPassword="hunter2"),
        f"{NS}:sql.administratorLoginPassword is not a known setting",
    ),
    ("vCores not a Gen5 size", "dev", _sql(database__vCores=3), "vCores 3 is not a Gen5 size"),
    ("unknown edition", "dev", _sql(database__edition="Premium"), f"{NS}:sql.database.edition"),
    (
        "Business Critical has no serverless",
        "dev",
        _sql(database__edition="BusinessCritical"),
        "computeModel Serverless is only offered with edition GeneralPurpose or Hyperscale",
    ),
    (
        "auto-pause below 15 minutes",
        "dev",
        _sql(database__autoPauseDelayMinutes=5),
        "autoPauseDelayMinutes 5 must be -1 (never pause) or 15-10080",
    ),
    ("min vCores above max", "dev", _sql(database__minVCores=4), "minVCores 4.0 must not exceed vCores 2"),
    (
        "short-term retention above 35 days",
        "dev",
        _sql(backup__shortTermRetentionDays=60),
        f"{NS}:sql.backup.shortTermRetentionDays",
    ),
    ("audit retention below 90 days", "dev", _sql(auditRetentionDays=30), "auditRetentionDays 30 must be 0"),
    (
        "LTR without any period",
        "dev",
        _sql(backup__longTermRetention={"weekOfYear": 3}),
        "set at least one of weeklyRetention",
    ),
    (
        "LTR period not ISO-8601",
        "dev",
        _sql(backup__longTermRetention={"weeklyRetention": "4 weeks"}),
        f"{NS}:sql.backup.longTermRetention.weeklyRetention",
    ),
    (
        "prod on General Purpose",
        "prod",
        _sql("prod", database__edition="GeneralPurpose"),
        "sql.database.edition 'GeneralPurpose' is not allowed in prod",
    ),
    (
        "prod without zone redundancy",
        "prod",
        _sql("prod", database__zoneRedundant=False),
        "sql.database.zoneRedundant must be true in prod",
    ),
    (
        "prod without long-term retention",
        "prod",
        _sql("prod", backup__longTermRetention=None),
        "sql.backup.longTermRetention is required in prod",
    ),
    (
        "prod with locally redundant backups",
        "prod",
        _sql("prod", database__backupStorageRedundancy="Local"),
        "sql.database.backupStorageRedundancy 'Local' is not allowed in prod",
    ),
    ("prod without a serving layer", "prod", {f"{NS}:sql": None}, "sql is required in prod"),
    (
        "CMK size SQL cannot use",
        "prod",
        {f"{NS}:encryption": {"customerManagedKeys": True, "keySize": 4096}},
        "encryption.keySize 4096 cannot protect Azure SQL TDE",
    ),
]


@pytest.mark.parametrize(("case", "stack", "overrides", "expected"), BROKEN_SQL, ids=[b[0] for b in BROKEN_SQL])
def test_broken_sql_config_is_rejected_naming_the_key(
    case: str, stack: str, overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(StackProgramError) as info:
        run_stack(stack, preview=True, config_overrides=overrides)
    assert isinstance(info.value.cause, ConfigError), f"{case}: {info.value.cause!r}"
    assert expected in str(info.value.cause), str(info.value.cause)
    assert info.value.registered == 0, "resources were registered before the config was validated"


def test_a_stack_without_the_sql_section_has_no_serving_layer() -> None:
    plan = run_stack("dev", preview=True, config_overrides={f"{NS}:sql": None})
    assert not plan.of_type(SERVER)
    assert "sqlServerFqdn" not in plan.outputs and "powerBiDataSource" not in plan.outputs


def test_hyperscale_serverless_prod_variant_is_accepted_and_shaped(tmp_path: Path) -> None:
    section = _sql_config("prod")
    section["database"] = {
        "name": "gold",
        "edition": "Hyperscale",
        "computeModel": "Serverless",
        "vCores": 8,
        "minVCores": 1,
        "zoneRedundant": True,
        "highAvailabilityReplicas": 1,
        "backupStorageRedundancy": "Zone",
    }
    plan = run_stack("prod", preview=True, config_overrides={f"{NS}:sql": section})
    db = only(plan, DATABASE)
    assert db.inputs["sku"]["name"] == "HS_S_Gen5"
    assert db.inputs["highAvailabilityReplicaCount"] == 1
    assert "autoPauseDelay" not in db.inputs and "readScale" not in db.inputs
    # Hyperscale keeps snapshots: no differential backup interval.
    assert "diffBackupIntervalInHours" not in only(plan, STR).inputs
    assert dig(only(plan, LTR).inputs, "yearlyRetention") == "P7Y"


def test_the_gold_writer_is_the_processor_identity_named_for_create_user(stack_plan: Plan) -> None:
    processor = next(i for i in stack_plan.of_type(IDENTITY) if i.name == "identities-processor")
    assert stack_plan.outputs["sqlGoldWriter"] == {
        "name": processor.inputs["resourceName"],
        "objectId": processor.outputs["principalId"],
        "clientId": processor.outputs["clientId"],
    }


# --------------------------------------------------------------------------- dashboards and alerts as code

WAREHOUSE = "databricks:index/sqlEndpoint:SqlEndpoint"
DASHBOARD = "databricks:index/dashboard:Dashboard"
ALERT = "databricks:index/alertV2:AlertV2"
DESTINATION = "databricks:index/notificationDestination:NotificationDestination"
PERMISSIONS = "databricks:index/permissions:Permissions"
CATALOG = "databricks:index/catalog:Catalog"
UC_SCHEMA = "databricks:index/schema:Schema"
PROVIDER = "pulumi:providers:databricks"
# The five trading visuals of the issue, and the alerts table.
TRADING_VIEWS = {
    "v_transaction_count_by_type": "bar",
    "v_price_trend": "line",
    "v_cumulative_quantity": "area",
    "v_total_quantity_by_symbol": "bar",
    "v_volume_share": "pie",
    "v_active_alerts": "table",
}
_FROM = re.compile(r"\bFROM\s+((?:`[^`]+`\.)*`[^`]+`)", re.IGNORECASE)


def _dashboards_config(stack: str) -> dict[str, Any]:
    values, _ = stack_config_values(stack)
    return json.loads(values[f"{NS}:dashboards"])


def _alert_schedule(stack: str) -> dict[str, str]:
    """Every alertIntervalMinutes around the clock; with a run window, only in its whole hours and days."""
    values, _ = stack_config_values(stack)
    dashboards = json.loads(values[f"{NS}:dashboards"])
    interval = dashboards["alertIntervalMinutes"]
    window = json.loads(values[f"{NS}:databricks"])["jobs"].get("runWindow")
    if window is None:
        cron, zone = f"0 0/{interval} * * * ?", dashboards.get("timezone", "UTC")
    else:
        (start_h, start_m), (end_h, _) = ([int(x) for x in window[k].split(":")] for k in ("start", "end"))
        cron = f"0 0/{interval} {start_h + bool(start_m)}-{end_h - 1} ? * {','.join(window['days'])}"
        zone = window["timezone"]
    return {"quartzCronSchedule": cron, "timezoneId": zone, "pauseStatus": "UNPAUSED"}


def _dashboard_document(plan: Plan) -> dict[str, Any]:
    return json.loads(plan.one(DASHBOARD, "serving-dashboards-dashboard").inputs["serializedDashboard"])


def _from_target(sql: str) -> str:
    found = _FROM.findall(sql)
    assert len(found) == 1, sql
    return found[0].split(".")[-1].strip("`")


def test_dashboard_objects_are_created_through_the_workspace_provider(stack_plan: Plan) -> None:
    # The workspace's provider; the other one is account-level (metastore and admin assignments only).
    providers = [r for r in stack_plan.resources if r.type == PROVIDER and "azureWorkspaceResourceId" in r.inputs]
    assert len(providers) == 1
    for token in (WAREHOUSE, DASHBOARD, ALERT, DESTINATION):
        for r in stack_plan.of_type(token):
            assert r.provider and r.provider.startswith(providers[0].urn), r.name


def test_sql_warehouse_is_sized_per_environment_and_runs_in_the_workspace_vnet(stack_plan: Plan) -> None:
    warehouse = only(stack_plan, WAREHOUSE).inputs
    configured = _dashboards_config(stack_plan.stack)["warehouse"]
    assert warehouse["clusterSize"] == configured["size"]
    assert (warehouse["minNumClusters"], warehouse["maxNumClusters"]) == (
        configured["minClusters"],
        configured["maxClusters"],
    )
    assert warehouse["autoStopMins"] == configured["autoStopMinutes"]
    # PRO, not serverless: it reaches the private lake through the workspace's own network.
    assert warehouse["warehouseType"] == "PRO" and warehouse["enableServerlessCompute"] is False


def test_warehouse_sizes_differ_between_dev_and_prod(dev_plan: Plan, prod_plan: Plan) -> None:
    dev, prod = only(dev_plan, WAREHOUSE).inputs, only(prod_plan, WAREHOUSE).inputs
    assert (dev["clusterSize"], dev["maxNumClusters"]) == ("2X-Small", 1)
    assert (prod["clusterSize"], prod["maxNumClusters"]) == ("Small", 3)


def test_dashboard_has_the_five_trading_visuals_over_the_gold_serving_views(stack_plan: Plan) -> None:
    from streaming_jobs.serving.schema import GOLD_VIEWS

    dashboard = stack_plan.one(DASHBOARD, "serving-dashboards-dashboard")
    catalog = only(stack_plan, CATALOG).inputs["name"]
    gold = next(s for s in stack_plan.of_type(UC_SCHEMA) if s.name.endswith("-gold")).inputs["name"]
    assert dashboard.inputs["datasetCatalog"] == catalog and dashboard.inputs["datasetSchema"] == gold
    assert dashboard.inputs["warehouseId"] == only(stack_plan, WAREHOUSE).id
    assert dashboard.inputs["embedCredentials"] is False, "viewers must query with their own grants"

    document = _dashboard_document(stack_plan)
    datasets = {d["name"]: d for d in document["datasets"]}
    widgets = [item["widget"] for page in document["pages"] for item in page["layout"]]
    drawn: dict[str, str] = {}
    for widget in widgets:
        query = widget["queries"][0]["query"]
        sql = " ".join(datasets[query["datasetName"]]["queryLines"])
        view = _from_target(sql)
        assert view in GOLD_VIEWS, f"{widget['name']} reads {view!r}, not a gold serving view"
        selected = re.findall(r"`([^`]+)`", sql.split(" FROM ")[0])
        assert selected and set(selected) <= set(GOLD_VIEWS[view].columns), (view, selected)
        fields = {f["name"] for f in query["fields"]}
        assert fields <= set(selected)
        encodings = widget["spec"]["encodings"]
        used = (
            [c["fieldName"] for c in encodings["columns"]]
            if "columns" in encodings
            else [e["fieldName"] for e in encodings.values()]
        )
        assert set(used) <= fields, (widget["name"], used)
        drawn[view] = widget["spec"]["widgetType"]
    assert drawn == TRADING_VIEWS


def test_the_dashboard_queries_run_on_the_gold_database_the_migrations_create(tmp_path: Path) -> None:
    """Local SQLite through the same migration and upsert code the gold job runs; the dashboard's SQL
    rendered for SQLite differs from the Databricks SQL only in the time window (the one dialect difference)."""
    from components.serving_dashboards import AlertRuleArgs, alert_query, trading_visuals
    from streaming_jobs.serving.connections import SqliteSession
    from streaming_jobs.serving.migrate import migrate
    from streaming_jobs.serving.schema import ALERTS, GOLD_TABLES, GOLD_VIEWS
    from streaming_jobs.serving.upsert import GoldBatch, apply_batch

    session = SqliteSession(tmp_path / "gold.db")
    try:
        assert migrate(session).applied == [1, 2]
        assert migrate(session).applied == []  # idempotent: the second run applies nothing
        for name, view in GOLD_VIEWS.items():
            columns = [row[1] for row in session.query(f"PRAGMA gold.table_info({name})")]
            assert columns == list(view.columns), name

        now = datetime.now(UTC)
        start, end = now - timedelta(seconds=30), now
        ts = lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]  # noqa: E731

        def row(table: str, **values: Any) -> list[Any]:
            defaults = {"window_start": ts(start), "window_end": ts(end), "batch_id": 7, "updated_at": ts(now)}
            merged = {**defaults, **values}
            return [merged.get(c, 0) for c in GOLD_TABLES[table].column_names]

        batch = GoldBatch(
            query_id="gold_metrics",
            batch_id=7,
            rows={
                "symbol_window_metrics": [
                    row("symbol_window_metrics", symbol="MSFT", trade_count=3, volume=300, avg_price=410.5),
                    row("symbol_window_metrics", symbol="AAPL", trade_count=1, volume=100, avg_price=190.25),
                ],
                "side_window_metrics": [row("side_window_metrics", side="BUY", trade_count=4, volume=400)],
                "alerts": [
                    row(
                        ALERTS.name,
                        rule_name="volume_surge",
                        symbol="MSFT",
                        metric="volume",
                        operator=">",
                        threshold=250.0,
                        metric_value=300.0,
                        active=1,
                        first_batch_id=7,
                        detected_at=ts(now),
                    )
                ],
            },
        )
        assert apply_batch(session, batch) is True

        sqlite_visuals = {v.key: v for v in trading_visuals(window_minutes=60, dialect="sqlite")}
        spark_visuals = {v.key: v for v in trading_visuals(window_minutes=60, dialect="spark")}
        results = {key: session.query(v.sql) for key, v in sqlite_visuals.items()}
        for key, v in sqlite_visuals.items():
            window = "current_timestamp() - INTERVAL 60 MINUTES"
            assert spark_visuals[key].sql == v.sql.replace("datetime('now', '-60 minutes')", window)
        assert {r[2] for r in results["price_trend"]} == {"MSFT", "AAPL"}
        assert [(r[2], r[3]) for r in results["transactions_by_type"]] == [("BUY", 4)]
        assert [r[-1] for r in results["cumulative_quantity"]] == [400]
        assert dict((r[0], r[1]) for r in results["total_quantity_by_symbol"]) == {"MSFT": 300, "AAPL": 100}
        assert dict((r[0], r[2]) for r in results["volume_share"]) == {"MSFT": 75.0, "AAPL": 25.0}
        assert [r[0] for r in results["active_alerts"]] == ["volume_surge"]

        fired = alert_query(AlertRuleArgs("volume_surge"), lookback_minutes=5, dialect="sqlite")
        quiet = alert_query(AlertRuleArgs("price_spike"), lookback_minutes=5, dialect="sqlite")
        assert session.query(fired) == [(1,)] and session.query(quiet) == [(0,)]
        # A replayed batch changes nothing the dashboard shows.
        assert apply_batch(session, batch) is False
        assert session.query(sqlite_visuals["volume_share"].sql) == results["volume_share"]
    finally:
        session.close()


def test_one_sql_alert_per_alert_rule_mails_the_configured_destination(stack_plan: Plan) -> None:
    values, _ = stack_config_values(stack_plan.stack)
    rules = [r["name"] for r in json.loads(values[f"{NS}:databricks"])["streaming"]["alertRules"]]
    dashboards = _dashboards_config(stack_plan.stack)
    destination = stack_plan.one(DESTINATION, "serving-dashboards-alerts-email")
    assert destination.inputs["config"] == {"email": {"addresses": dashboards["notificationEmails"]}}
    catalog = only(stack_plan, CATALOG).inputs["name"]
    alerts = {
        a.name.removeprefix("serving-dashboards-alert-"): a
        for a in stack_plan.of_type(ALERT)
        if a.name.startswith("serving-dashboards-alert-")
    }
    assert sorted(alerts) == sorted(rules) and rules
    runtime_sp = next(r for r in stack_plan.resources if r.type == "databricks:index/servicePrincipal:ServicePrincipal")
    for rule, alert in alerts.items():
        inputs = alert.inputs
        assert inputs["queryText"].startswith(f"SELECT COUNT(*) AS fired FROM `{catalog}`.`gold`.`v_active_alerts` ")
        assert f"`rule_name` = '{rule}'" in inputs["queryText"]
        assert f"INTERVAL {dashboards['alertLookbackMinutes']} MINUTES" in inputs["queryText"]
        evaluation = inputs["evaluation"]
        assert evaluation["source"] == {"name": "fired"}
        assert evaluation["comparisonOperator"] == "GREATER_THAN"
        assert evaluation["threshold"] == {"value": {"doubleValue": 0}}
        assert evaluation["notification"]["subscriptions"] == [{"destinationId": destination.id}]
        assert inputs["schedule"] == _alert_schedule(stack_plan.stack)
        assert inputs["warehouseId"] == only(stack_plan, WAREHOUSE).id
        assert inputs["runAs"] == {"servicePrincipalName": runtime_sp.outputs["applicationId"]}


def test_viewers_may_use_the_warehouse_and_run_the_dashboard_nothing_more(stack_plan: Plan) -> None:
    levels = {
        p.name: {a["permissionLevel"] for a in p.inputs["accessControls"] if "groupName" in a}
        for p in stack_plan.of_type(PERMISSIONS)
        if p.name.startswith("serving-dashboards")
    }
    assert levels == {
        "serving-dashboards-warehouse-permissions": {"CAN_USE"},
        "serving-dashboards-dashboard-permissions": {"CAN_RUN"},
        "serving-dashboards-pipeline-dashboard-permissions": {"CAN_RUN"},
    }


def test_dashboards_need_the_databricks_workspace() -> None:
    with pytest.raises(StackProgramError) as info:
        run_stack("dev", preview=True, config_overrides={f"{NS}:databricks": None})
    assert "dashboards needs databricks" in str(info.value.cause)


BROKEN_DASHBOARDS: list[tuple[str, dict[str, Any], str]] = [
    ("no notification email", {"notificationEmails": []}, f"{NS}:dashboards.notificationEmails"),
    ("unknown warehouse size", {"warehouse": {"size": "Huge"}}, f"{NS}:dashboards.warehouse.size"),
    (
        "serverless warehouse without a network connectivity config",
        {"warehouse": {"serverless": True, "autoStopMinutes": 10}},
        "serverless true needs a network connectivity config",
    ),
    ("max clusters below min", {"warehouse": {"minClusters": 3, "maxClusters": 1}}, "maxClusters 1 must be >= min"),
    ("classic warehouse stopping too soon", {"warehouse": {"autoStopMinutes": 5}}, "autoStopMinutes 5 must be at"),
    (
        "alerts inside the auto-stop delay, not accepted",
        {"warehouse": {"keptUpByAlerts": False}},
        "alertIntervalMinutes 5 is not longer than warehouse.autoStopMinutes 10",
    ),
    (
        "keptUpByAlerts although the warehouse stops between evaluations",
        {"alertIntervalMinutes": 15, "alertLookbackMinutes": 15},
        "warehouse.keptUpByAlerts is true but alertIntervalMinutes 15 is longer",
    ),
    (
        "look-back shorter than the interval",
        {"alertIntervalMinutes": 10, "alertLookbackMinutes": 5},
        "alertLookbackMinutes 5 must be >= alertIntervalMinutes 10",
    ),
    ("not an email", {"notificationEmails": ["ops"]}, f"{NS}:dashboards.notificationEmails[0]"),
]


@pytest.mark.parametrize(("case", "changes", "expected"), BROKEN_DASHBOARDS, ids=[b[0] for b in BROKEN_DASHBOARDS])
def test_broken_dashboards_config_is_rejected_naming_the_key(case: str, changes: dict[str, Any], expected: str) -> None:
    section = _dashboards_config("dev")
    for key, value in changes.items():
        section[key] = {**section[key], **value} if isinstance(value, dict) else value
    with pytest.raises(StackProgramError) as info:
        run_stack("dev", preview=True, config_overrides={f"{NS}:dashboards": section})
    assert isinstance(info.value.cause, ConfigError), f"{case}: {info.value.cause!r}"
    assert expected in str(info.value.cause), str(info.value.cause)
    assert info.value.registered == 0


# --------------------------------------------------------------------------- the serving job's parameters


def test_the_gold_job_upserts_into_the_stacks_server_as_the_processor_identity(stack_plan: Plan) -> None:
    gold = next(j for j in stack_plan.of_type("databricks:index/job:Job") if j.name.endswith("-gold"))
    params = job_params(gold)
    assert (
        params["--sql-server"]
        == stack_plan.outputs["sqlServerFqdn"]
        == only(stack_plan, SERVER).outputs["fullyQualifiedDomainName"]
    )
    assert params["--sql-database"] == stack_plan.outputs["sqlDatabaseName"]
    # The token comes from the Unity Catalog service credential of the processor identity: the same
    # identity the stack names as the database's contained user (sqlGoldWriter).
    credential = next(
        c
        for c in stack_plan.of_type("databricks:index/credential:Credential")
        if c.inputs["name"] == params["--service-credential"]
    )
    processor = next(i for i in stack_plan.of_type(IDENTITY) if i.name == "identities-processor")
    assert credential.inputs["azureManagedIdentity"]["managedIdentityId"] == processor.id
    assert stack_plan.outputs["sqlGoldWriter"]["objectId"] == processor.outputs["principalId"]
    assert not [p for p in params if "password" in p.lower() or "secret" in p.lower()]


# --------------------------------------------------------------------------- failover group (scale stack)

FAILOVER_GROUP = "azure-native:sql:FailoverGroup"


def test_failover_group_holds_gold_on_a_hardened_partner_in_the_paired_region(scale_plan: Plan) -> None:
    """The scale stack sets sql.failoverGroup: a partner server built like the primary, and the group."""
    from stack_config.loader import parse_stack_config
    from stack_config.sql import PAIRED_REGIONS
    from tests.plan_queries import raw_stack_config

    config = parse_stack_config(raw_stack_config("scale"), "scale")
    assert config.sql is not None and config.sql.failover_group is not None
    primary, partner = scale_plan.one(SERVER, "serving-server"), scale_plan.one(SERVER, "serving-partner-server")
    assert partner.inputs["location"] == PAIRED_REGIONS[config.location] != primary.inputs["location"]
    assert partner.inputs["serverName"] != primary.inputs["serverName"]
    # Everything the zero-trust pack asks of a server, as on the primary.
    for key in ("administrators", "minimalTlsVersion", "publicNetworkAccess", "restrictOutboundNetworkAccess",
                "identity"):  # fmt: skip
        assert partner.inputs[key] == primary.inputs[key], key
    assert partner.inputs["publicNetworkAccess"] == "Disabled"
    assert partner.inputs["administrators"]["azureADOnlyAuthentication"] is True
    # The partner holds the vault key as its protector before the group seeds the geo-secondary.
    protectors = [p for p in scale_plan.of_type(PROTECTOR) if partner.urn in p.dependencies or
                  p.inputs["serverName"] == partner.inputs["serverName"]]  # fmt: skip
    (protector,) = protectors
    (auditing,) = [a for a in scale_plan.of_type(AUDITING) if a.inputs["serverName"] == partner.inputs["serverName"]]
    assert auditing.inputs["state"] == "Enabled" and auditing.inputs["isAzureMonitorTargetEnabled"] is True
    (pe,) = private_endpoints_for(scale_plan, partner)
    assert group_ids(pe) == ["sqlServer"] and zone_group_for(scale_plan, pe) is not None

    group = only(scale_plan, FAILOVER_GROUP)
    database = only(scale_plan, DATABASE)
    assert group.inputs["serverName"] == primary.inputs["serverName"]
    assert group.inputs["partnerServers"] == [{"id": partner.id}]
    assert group.inputs["databases"] == [database.id]
    fog = config.sql.failover_group
    # Automatic carries the grace period the API requires with it (the scale stack sets both).
    assert fog.failover_policy == "Automatic"
    assert group.inputs["readWriteEndpoint"] == {
        "failoverPolicy": fog.failover_policy,
        "failoverWithDataLossGracePeriodMinutes": fog.grace_period_minutes,
    }
    assert group.inputs["readOnlyEndpoint"] == {"failoverPolicy": "Disabled"}
    assert {protector.urn, auditing.urn, partner.urn, database.urn} <= set(group.dependencies)


def test_other_stacks_have_no_failover_group(dev_plan: Plan, prod_plan: Plan) -> None:
    assert not dev_plan.of_type(FAILOVER_GROUP) and not prod_plan.of_type(FAILOVER_GROUP)


BROKEN_FAILOVER: list[tuple[str, dict[str, Any], str]] = [
    ("automatic without a grace period", {"failoverPolicy": "Automatic"}, "gracePeriodMinutes (at least 60)"),
    ("grace period under an hour", {"failoverPolicy": "Automatic", "gracePeriodMinutes": 30}, "gracePeriodMinutes"),
    (
        "grace period with manual failover",
        {"failoverPolicy": "Manual", "gracePeriodMinutes": 60},
        "only meaningful with failoverPolicy Automatic",
    ),
    ("partner in the primary's region", {"partnerLocation": "westeurope"}, "is the primary's own region"),
    ("unknown policy", {"failoverPolicy": "Sometimes"}, "failoverGroup.failoverPolicy"),
]


@pytest.mark.parametrize(("case", "section", "expected"), BROKEN_FAILOVER, ids=[b[0] for b in BROKEN_FAILOVER])
def test_broken_failover_group_config_is_rejected(case: str, section: dict[str, Any], expected: str) -> None:
    from stack_config.loader import parse_stack_config
    from tests.plan_queries import raw_stack_config

    raw = raw_stack_config("scale")
    raw["sql"] = {**raw["sql"], "failoverGroup": section}
    with pytest.raises(ConfigError) as info:
        parse_stack_config(raw, "scale")
    assert expected in str(info.value), str(info.value)


def test_a_location_without_a_known_pair_needs_the_partner_named() -> None:
    from stack_config.loader import parse_stack_config
    from tests.plan_queries import raw_stack_config

    sql = parse_stack_config(raw_stack_config("scale"), "scale").sql
    assert sql is not None and sql.failover_group is not None
    problems = sql.stack_problems(is_prod=True, cmk_key_size=3072, location="polandcentral")
    assert problems == ["sql.failoverGroup.partnerLocation is required: 'polandcentral' has no known paired region"]
    named = sql.model_copy(
        update={"failover_group": sql.failover_group.model_copy(update={"partner_location": "germanywestcentral"})}
    )
    assert named.stack_problems(is_prod=True, cmk_key_size=3072, location="polandcentral") == []
    assert named.failover_group is not None and named.failover_group.partner("polandcentral") == "germanywestcentral"
