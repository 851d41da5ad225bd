"""Monitoring: every diagnosable resource logs to Log Analytics (MO-*)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    UNKNOWN,
    Graph,
    Meta,
    Node,
    ZeroTrustResourcePolicy,
    all_of,
    as_bool,
    as_list,
    dig,
    expect,
    expect_minimum,
    is_set,
    is_unknown,
    lower,
    mcsb,
    must_be_true,
    stack_policy,
)

DIAGNOSTIC_SETTING = AZ + "monitor:DiagnosticSetting"
LOG_ANALYTICS = AZ + "operationalinsights:Workspace"
SVC = "monitoring"

# Resource types whose logs the platform must keep. Storage accounts log through
# their blob/dfs service scopes, whose settings depend on the account.
DIAGNOSABLE_TYPES = [
    AZ + "keyvault:Vault",
    AZ + "eventhub:Namespace",
    AZ + "databricks:Workspace",
    AZ + "sql:Database",
    AZ + "storage:StorageAccount",
    AZ + "network:NetworkSecurityGroup",
    AZ + "web:WebApp",
    AZ + "kusto:Cluster",
]


def settings_for(graph: Graph, target: Node) -> list[Node]:
    """Diagnostic settings whose resourceUri is the target (or one of its sub-resources)."""
    return [
        d for d in graph.of_type(DIAGNOSTIC_SETTING) if graph.refers_to(d, target, "resourceUri", d.get("resourceUri"))
    ]


def enabled_logs(setting: Node) -> list[Any]:
    """The setting's enabled log entries; UNKNOWN entries count, as they will be filled in."""
    logs = []
    for entry in as_list(setting.get("logs")):
        if entry is UNKNOWN:
            logs.append(UNKNOWN)
            continue
        enabled = as_bool(dig(entry, "enabled"))
        if enabled is True or is_unknown(enabled):
            logs.append(entry)
    return logs


@stack_policy(
    Meta(
        name="diagnostic-settings-present",
        control="MO-01",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Every Key Vault, Event Hubs namespace, Databricks workspace, SQL database, storage account, NSG, function "
            "app and Kusto cluster has a diagnostic setting that sends enabled resource logs to a Log Analytics "
            "workspace."
        ),
        why=(
            "Without resource logs there is no record of who read a secret or a table; zero trust assumes breach and "
            "needs the audit trail."
        ),
        remediation=(
            "Add a monitor:DiagnosticSetting with resourceUri=<resource id> (for storage, <account "
            "id>/blobServices/default), "
            'workspaceId=<Log Analytics id> and logs=[{"categoryGroup": "allLogs", "enabled": true}].'
        ),
        framework=mcsb("LT-3", anchors="Azure Policy cf820ca0, 83a214f7, 138ff14d"),
        config={
            "resourceTypes": {
                "type": "array",
                "items": {"type": "string"},
                "default": DIAGNOSABLE_TYPES,
                "description": "Resource types that must have a diagnostic setting.",
            }
        },
    )
)
def diagnostic_settings_present(graph: Graph, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for target in graph.of_type(*config["resourceTypes"]):
        settings = settings_for(graph, target)
        if not settings:
            yield target.urn, f"{target.name!r} ({target.type}) has no diagnostic setting."
            continue
        to_workspace = [s for s in settings if is_set(s.get("workspaceId"))]
        if not to_workspace:
            yield (
                target.urn,
                f"no diagnostic setting of {target.name!r} sends to a Log Analytics workspace (workspaceId).",
            )
        elif not any(enabled_logs(s) for s in to_workspace):
            yield target.urn, f"no diagnostic setting of {target.name!r} enables any log category (metrics only)."


log_analytics_hardening = ZeroTrustResourcePolicy(
    Meta(
        name="log-analytics-hardening",
        control="MO-02",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Log Analytics workspaces keep logs long enough (retentionInDays >= minRetentionDays), disable local "
            "(shared key) auth and close public ingestion and query."
        ),
        why=(
            "Investigations need the logs from before the incident was noticed; shared keys and public ingestion let "
            "anyone holding a key write forged logs, public query lets a stolen token read them from anywhere."
        ),
        remediation=(
            "Set retentionInDays to at least the configured minimum, features.disableLocalAuth=true and "
            'publicNetworkAccessForIngestion/publicNetworkAccessForQuery="Disabled" (query through Azure Monitor '
            "Private Link)."
        ),
        framework=mcsb("LT-6", anchors="BP log-analytics-retention; Azure Policy e15effd4"),
        config={
            "minRetentionDays": {
                "type": "integer",
                "minimum": 30,
                "maximum": 730,
                "default": 90,
                "description": "Minimum interactive retention in days.",
            }
        },
    ),
    [LOG_ANALYTICS],
    all_of(
        expect_minimum("retentionInDays", "minRetentionDays", when_missing=" (Azure default 30)"),
        must_be_true("features.disableLocalAuth", ": agents can ingest with the workspace shared key"),
        *(
            expect(key, ("disabled",), normalise=lower, unset="not set (Enabled)")
            for key in ("publicNetworkAccessForIngestion", "publicNetworkAccessForQuery")
        ),
    ),
)


POLICIES = [diagnostic_settings_present, log_analytics_hardening]

__all__ = ["DIAGNOSABLE_TYPES", "DIAGNOSTIC_SETTING", "POLICIES", "enabled_logs", "settings_for"]
