"""Controls the first pack missed: zone redundancy, the DBFS-root key, SAS leftovers (ST-15, EH-05, EH-08,
SQ-12, DB-06).

Zone redundancy is reliability rather than access control, so it is advisory by default and
mandatory in prod (policies/config/prod.json): a prod platform that loses a zone must keep its data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    Framework,
    Meta,
    Res,
    ZeroTrustResourcePolicy,
    as_bool,
    expect_flag,
    is_set,
    is_unknown,
    lower,
    resource_policy,
)
from .databricks_workspace import WORKSPACE
from .eventhub import NAMESPACE
from .sql import DATABASE as SQL_DATABASE
from .storage import ACCOUNT

SAS_RULES = [AZ + "eventhub:NamespaceAuthorizationRule", AZ + "eventhub:EventHubAuthorizationRule"]
ZONE_REDUNDANT_SKUS = ["Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS", "Premium_ZRS"]


@resource_policy(
    Meta(
        name="storage-zone-redundant",
        control="ST-15",
        service="storage",
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Storage accounts replicate across availability zones (sku.name in allowedSkus: ZRS, GZRS, RA-GZRS)."
        ),
        why="LRS and GRS keep every copy in one zone of the primary region; one datacentre outage stops the lake.",
        remediation="Set sku.name to Standard_ZRS, Standard_GZRS or Standard_RAGZRS.",
        framework=Framework("PSRule for Azure", "Azure.Storage.UseReplication", None, "CKV_AZURE_206; Trivy AZU-0058"),
        config={
            "allowedSkus": {
                "type": "array",
                "items": {"type": "string"},
                "default": ZONE_REDUNDANT_SKUS,
                "description": "Storage SKUs that count as zone-redundant.",
            }
        },
    ),
    [ACCOUNT],
)
def storage_zone_redundant(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
    sku = r.get("sku.name")
    if not is_unknown(sku) and str(sku or "").lower() not in {s.lower() for s in config["allowedSkus"]}:
        yield f"sku.name is {sku!r}, which is not zone-redundant."


sql_zone_redundant = ZeroTrustResourcePolicy(
    Meta(
        name="sql-database-zone-redundant",
        control="SQ-12",
        service="sql",
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description="SQL databases are zone-redundant (zoneRedundant=true).",
        why="The serving layer behind the dashboards must survive the loss of one availability zone.",
        remediation="Set zoneRedundant=true (General Purpose, Business Critical and Hyperscale support it).",
        framework=Framework("Checkov", "CKV_AZURE_229", None, "BP sql-database-high-availability"),
    ),
    [SQL_DATABASE],
    expect_flag("zoneRedundant", True, when_missing=" (Azure default false)"),
)

eventhub_zone_redundant = ZeroTrustResourcePolicy(
    Meta(
        name="eventhub-zone-redundant",
        control="EH-05",
        service="eventhub",
        severity=Severity.LOW,
        enforcement=EnforcementLevel.ADVISORY,
        description="Event Hubs namespaces do not opt out of zone redundancy (zoneRedundant not false).",
        why="The ingestion buffer is the only copy of events not yet in bronze; a zone outage must not lose it.",
        remediation="Set zoneRedundant=true (or leave it unset in regions where Azure makes it the default).",
        framework=Framework("Checkov", "CKV_AZURE_228", None, "Azure.EventHub.AvailabilityZone"),
    ),
    [NAMESPACE],
    expect_flag("zoneRedundant", True),
)


@resource_policy(
    Meta(
        name="eventhub-no-sas-rules",
        control="EH-08",
        service="eventhub",
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description="No Event Hubs SAS authorization rules (namespace or hub level) are created.",
        why=(
            "Each rule mints shared keys; with local auth disabled they are dead weight that comes back to life the "
            "day someone re-enables it."
        ),
        remediation="Grant Azure Event Hubs Data Sender/Receiver roles to identities instead of SAS rules.",
        framework=Framework("Azure Policy", "b278e460", None, None),
    ),
    SAS_RULES,
)
def eventhub_no_sas_rules(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    yield f"SAS authorization rule {r.get('authorizationRuleName') or r.name!r} mints shared keys."


@resource_policy(
    Meta(
        name="databricks-dbfs-root-cmk",
        control="DB-06",
        service="databricks",
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Databricks workspaces prepare the DBFS root for a customer-managed key (parameters.prepareEncryption"
            ".value=true), and any DBFS-root key they set comes from Key Vault with a key name and vault URI."
        ),
        why=(
            "The DBFS root holds job libraries, init scripts and temporary data outside Unity Catalog; preparing it "
            "is only possible at creation, and the key itself is set once the workspace's storage identity exists."
        ),
        remediation=(
            "Set parameters.prepareEncryption={'value': true}; after the first deploy, set parameters.encryption to "
            "{'value': {'keySource': 'Microsoft.Keyvault', 'keyName': ..., 'keyVaultUri': ...}} "
            "(databricks.encryptDbfsRoot)."
        ),
        framework=Framework("Checkov", "CKV2_AZURE_48", None, "Azure Databricks DBFS CMK docs"),
    ),
    [WORKSPACE],
)
def dbfs_root_cmk(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    prepared = as_bool(r.get("parameters.prepareEncryption.value"))
    if prepared is not True and not is_unknown(prepared):
        yield "parameters.prepareEncryption.value is not true: the DBFS root can never get a customer-managed key."
    encryption = r.get("parameters.encryption.value")
    if isinstance(encryption, Mapping):
        source = encryption.get("keySource")
        if not is_unknown(source) and lower(source) != "microsoft.keyvault":
            yield f"parameters.encryption.value.keySource is {source!r}, not Microsoft.Keyvault."
        elif not (is_set(encryption.get("keyName")) and is_set(encryption.get("keyVaultUri"))):
            yield "parameters.encryption.value names no Key Vault key (keyName, keyVaultUri)."


POLICIES = [
    storage_zone_redundant,
    sql_zone_redundant,
    eventhub_zone_redundant,
    eventhub_no_sas_rules,
    dbfs_root_cmk,
]
