"""Databricks workspace objects (pulumi-databricks): tokens, compute, secrets, Unity Catalog, jobs (PD-*).

The anchor is Databricks' Security Analysis Tool; no IaC scanner covers these objects.
Wire inputs are the bridged provider's camelCase names (`newCluster.dataSecurityMode`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    DATABRICKS,
    UNKNOWN,
    Graph,
    Meta,
    Node,
    Res,
    as_bool,
    as_list,
    dig,
    first,
    is_set,
    is_unknown,
    lower,
    resource_policy,
    sat,
    stack_policy,
)

WORKSPACE_CONF = DATABRICKS + "workspaceConf:WorkspaceConf"
TOKEN = DATABRICKS + "token:Token"
PERMISSIONS = DATABRICKS + "permissions:Permissions"
CLUSTER = DATABRICKS + "cluster:Cluster"
CLUSTER_POLICY = DATABRICKS + "clusterPolicy:ClusterPolicy"
JOB = DATABRICKS + "job:Job"
SECRET_SCOPE = DATABRICKS + "secretScope:SecretScope"
GRANTS = DATABRICKS + "grants:Grants"
GRANT = DATABRICKS + "grant:Grant"
STORAGE_CREDENTIAL = DATABRICKS + "storageCredential:StorageCredential"
SERVICE_CREDENTIAL = DATABRICKS + "credential:Credential"
RESTRICT_ADMINS = DATABRICKS + "restrictWorkspaceAdminsSetting:RestrictWorkspaceAdminsSetting"
DISABLE_LEGACY_DBFS = DATABRICKS + "disableLegacyDbfsSetting:DisableLegacyDbfsSetting"
DISABLE_LEGACY_ACCESS = DATABRICKS + "disableLegacyAccessSetting:DisableLegacyAccessSetting"
SVC = "databricks"

# Unity Catalog-capable access modes (classic names and their newer aliases).
ACCESS_MODES = frozenset(
    {"USER_ISOLATION", "SINGLE_USER", "DATA_SECURITY_MODE_STANDARD", "DATA_SECURITY_MODE_DEDICATED"}
)


def _conf(node: Node | Res) -> Mapping[str, Any]:
    conf = node.get("customConfig")
    return conf if isinstance(conf, Mapping) else {}


def _uses_databricks(graph: Graph) -> bool:
    """The stack-wide Databricks policies judge only stacks that register Databricks objects."""
    return any(n.type.startswith(DATABRICKS) for n in graph.nodes)


def _days(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@stack_policy(
    Meta(
        name="databricks-token-lifetime",
        control="PD-01",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Personal access tokens are disabled or short-lived: a WorkspaceConf sets enableTokensConfig=false or "
            "maxTokenLifetimeDays <= the configured maximum; every Token has a lifetime within it; the 'users' group "
            "may not use tokens."
        ),
        why=(
            "PATs are bearer secrets that outlive the person or pipeline that created them; unset, a workspace allows "
            "730-day tokens."
        ),
        remediation=(
            'Add databricks.WorkspaceConf(custom_config={"maxTokenLifetimeDays": "<n>"}) (or enableTokensConfig '
            '"false"); '
            "set lifetimeSeconds on tokens; grant token usage to a specific group only."
        ),
        framework=sat("IA-4", anchors="SAT IA-4, IA-5, IA-6, IA-8, GOV-2"),
        config={
            "maxTokenLifetimeDays": {
                "type": "integer",
                "minimum": 1,
                "maximum": 730,
                "default": 90,
                "description": "Longest PAT lifetime allowed, in days.",
            }
        },
    )
)
def token_lifetime(graph: Graph, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    maximum = float(config["maxTokenLifetimeDays"])
    confs = graph.of_type(WORKSPACE_CONF)
    governed = False
    for conf in confs:
        values = _conf(conf)
        enabled = values.get("enableTokensConfig")
        lifetime = values.get("maxTokenLifetimeDays")
        if UNKNOWN in (enabled, lifetime) or as_bool(enabled) is False:
            governed = True
            continue
        if lifetime is not None:
            days = _days(lifetime)
            if days is None or days <= 0 or days > maximum:
                yield (
                    conf.urn,
                    f"WorkspaceConf {conf.name!r} sets maxTokenLifetimeDays={lifetime!r}; at most {int(maximum)} is "
                    f"allowed.",
                )
            else:
                governed = True
    if not governed and _uses_databricks(graph):
        target = first(confs)
        yield (
            (target.urn if target else None),
            (
                "no WorkspaceConf disables tokens or limits maxTokenLifetimeDays; the workspace default allows "
                "730-day tokens."
            ),
        )
    for token in graph.of_type(TOKEN):
        seconds = token.get("lifetimeSeconds")
        if seconds is None:
            yield token.urn, f"Token {token.name!r} has no lifetimeSeconds: it never expires."
        elif not is_unknown(seconds) and float(seconds) > maximum * 86400:
            yield token.urn, f"Token {token.name!r} lives {float(seconds) / 86400:.0f} days; at most {int(maximum)}."
    for perm in graph.of_type(PERMISSIONS):
        if perm.get("authorization") != "tokens":
            continue
        for ac in as_list(perm.get("accessControls")):
            if lower(dig(ac, "groupName")) == "users":
                yield perm.urn, f"Permissions {perm.name!r} lets the 'users' group (everyone) use tokens."


@stack_policy(
    Meta(
        name="databricks-workspace-exfiltration-settings",
        control="PD-03",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Workspace settings close common exfiltration paths: results download and notebook export off, verbose "
            "audit logs on."
        ),
        why=(
            "Downloading query results or exporting notebooks moves data out of the governed lake without a trace in "
            "Unity Catalog."
        ),
        remediation=(
            'Add WorkspaceConf custom_config {"enableResultsDownloading": "false", "enableExportNotebook": "false", '
            '"enableVerboseAuditLogs": "true"}.'
        ),
        framework=sat("DP-5", anchors="SAT DP-5, DP-13, GOV-15"),
    )
)
def exfiltration_settings(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    if not _uses_databricks(graph):
        return
    wanted = {"enableResultsDownloading": False, "enableExportNotebook": False, "enableVerboseAuditLogs": True}
    confs = graph.of_type(WORKSPACE_CONF)
    merged: dict[str, Any] = {}
    for conf in confs:
        merged.update(_conf(conf))
    wrong = [k for k, v in wanted.items() if merged.get(k) is not UNKNOWN and as_bool(merged.get(k)) is not v]
    if wrong:
        target = first(confs)
        yield (
            (target.urn if target else None),
            f"workspace settings not hardened: {', '.join(f'{k}={str(wanted[k]).lower()}' for k in wrong)}.",
        )


def clusters_of(r: Res) -> list[tuple[str, Mapping[str, Any]]]:
    """Every cluster spec a resource launches: an all-purpose cluster, or a job's new clusters."""
    if r.type == CLUSTER:
        return [(f"cluster {r.name!r}", r.props)]
    found: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(r.get("newCluster"), Mapping):
        found.append(("newCluster", r.get("newCluster")))
    for i, jc in enumerate(as_list(r.get("jobClusters"))):
        spec = dig(jc, "newCluster")
        if isinstance(spec, Mapping):
            found.append((f"jobClusters[{i}] {dig(jc, 'jobClusterKey', '')!s}".strip(), spec))
    for i, task in enumerate(as_list(r.get("tasks"))):
        for path, label in (
            ("newCluster", "newCluster"),
            ("forEachTask.task.newCluster", "forEachTask.task.newCluster"),
        ):
            spec = dig(task, path)
            if isinstance(spec, Mapping):
                found.append((f"tasks[{i}].{label}", spec))
    return found


@resource_policy(
    Meta(
        name="databricks-cluster-access-mode",
        control="PD-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Clusters and job clusters run in a Unity Catalog access mode (dataSecurityMode USER_ISOLATION or "
            "SINGLE_USER), "
            "or take it from their cluster policy (policyId with applyPolicyDefaultValues)."
        ),
        why=(
            "A missing mode means no isolation: the cluster bypasses Unity Catalog and can read storage with the "
            "cluster's identity."
        ),
        remediation=(
            'Set dataSecurityMode="SINGLE_USER" (jobs) or "USER_ISOLATION" (shared), or fix it in the cluster policy '
            "and set applyPolicyDefaultValues=true."
        ),
        framework=sat("GOV-12", anchors="SAT GOV-12"),
    ),
    [CLUSTER, JOB],
)
def cluster_access_mode(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    for label, spec in clusters_of(r):
        mode = dig(spec, "dataSecurityMode")
        if is_unknown(mode) or mode in ACCESS_MODES:
            continue
        if mode is None:
            from_policy = is_set(dig(spec, "policyId")) and as_bool(dig(spec, "applyPolicyDefaultValues")) in (
                True,
                UNKNOWN,
            )
            if not from_policy:
                yield f"{label} has no dataSecurityMode (no isolation) and does not take one from a cluster policy."
        else:
            yield f"{label} has dataSecurityMode {mode!r}."


@resource_policy(
    Meta(
        name="databricks-clusters-use-policy",
        control="PD-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Every cluster and job cluster is created under a cluster policy (policyId set).",
        why=(
            "Cluster policies are where the platform pins access mode, runtime, node types and auto-termination for "
            "all compute."
        ),
        remediation="Set policyId to a databricks.ClusterPolicy id on the cluster or job cluster spec.",
        framework=sat("GOV-4", anchors="SAT GOV-4"),
    ),
    [CLUSTER, JOB],
)
def clusters_use_policy(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    for label, spec in clusters_of(r):
        if not is_set(dig(spec, "policyId")):
            yield f"{label} has no policyId."


def _parse_definition(value: Any) -> Any:
    if is_unknown(value) or value is None:
        return value
    if isinstance(value, Mapping):
        return value
    try:
        return json.loads(str(value))
    except ValueError:
        return "invalid"


@resource_policy(
    Meta(
        name="databricks-cluster-policy-enforces-access-mode",
        control="PD-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Cluster policies pin data_security_mode to Unity Catalog access modes (fixed value or allowlist).",
        why="A policy that leaves the access mode open lets any user with the policy start an unisolated cluster.",
        remediation=(
            'In the policy definition add "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"} (or an '
            "allowlist of UC modes)."
        ),
        framework=sat("GOV-12", anchors="SAT GOV-12"),
    ),
    [CLUSTER_POLICY],
)
def cluster_policy_access_mode(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    source = "definition" if r.get("definition") is not None else "policyFamilyDefinitionOverrides"
    definition = _parse_definition(r.get(source))
    if is_unknown(definition):
        return
    if definition == "invalid":
        yield f"{source} is not valid JSON."
        return
    rule = dig(definition or {}, ["data_security_mode"])
    if not isinstance(rule, Mapping):
        yield f"{source} does not constrain data_security_mode."
        return
    kind = rule.get("type")
    values = [rule.get("value")] if kind == "fixed" else as_list(rule.get("values")) if kind == "allowlist" else []
    if not values or any(v not in ACCESS_MODES for v in values):
        yield f"data_security_mode rule {dict(rule)} allows modes outside {sorted(ACCESS_MODES)}."


SPOT = frozenset({"SPOT_AZURE", "SPOT_WITH_FALLBACK_AZURE"})


def _first_on_demand_ok(value: Any) -> bool:
    if is_unknown(value):
        return True
    try:
        return float(value) >= 1
    except (TypeError, ValueError):
        return False


def _spot_spec_problems(label: str, spec: Mapping[str, Any]) -> Iterator[str]:
    availability = dig(spec, "azureAttributes.availability")
    if is_unknown(availability) or availability not in SPOT:
        return
    if availability == "SPOT_AZURE":
        yield f"{label} uses SPOT_AZURE: without fallback it cannot start workers while Azure has no spot capacity."
    if not _first_on_demand_ok(dig(spec, "azureAttributes.firstOnDemand")):
        yield (
            f"{label} puts the driver on spot (azureAttributes.firstOnDemand "
            f"{dig(spec, 'azureAttributes.firstOnDemand')!r}, at least 1 keeps it on demand)."
        )
    price = dig(spec, "azureAttributes.spotBidMaxPrice")
    if price is not None and not is_unknown(price) and float(price) != -1:
        yield f"{label} bids at most {price} for spot VMs: they are evicted on price (-1: only for capacity)."


def _spot_policy_problems(definition: Mapping[str, Any]) -> Iterator[str]:
    rule = definition.get("azure_attributes.availability")
    if not isinstance(rule, Mapping):
        return  # the clusters it admits are judged as they are created
    kind = rule.get("type")
    values = [rule.get("value")] if kind == "fixed" else as_list(rule.get("values")) if kind == "allowlist" else None
    if values is not None and not SPOT & set(values):
        return
    if "SPOT_AZURE" in (values or ["SPOT_AZURE"]):
        yield f"azure_attributes.availability rule {dict(rule)} admits SPOT_AZURE (no fallback to on-demand)."
    first = definition.get("azure_attributes.first_on_demand")
    pinned = isinstance(first, Mapping) and (
        (first.get("type") == "fixed" and _first_on_demand_ok(first.get("value")))
        or (first.get("type") == "range" and _first_on_demand_ok(first.get("minValue")))
    )
    if not pinned:
        yield "the policy admits spot workers without pinning azure_attributes.first_on_demand >= 1 (driver on demand)."
    price = definition.get("azure_attributes.spot_bid_max_price")
    if not (isinstance(price, Mapping) and price.get("type") == "fixed" and price.get("value") == -1):
        yield "the policy admits spot workers without fixing azure_attributes.spot_bid_max_price to -1."


@resource_policy(
    Meta(
        name="databricks-spot-driver-on-demand",
        control="PD-04",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Spot compute keeps its driver on demand: a cluster or job cluster on spot uses "
            "SPOT_WITH_FALLBACK_AZURE with azureAttributes.firstOnDemand >= 1 and spotBidMaxPrice -1, and a cluster "
            "policy that admits spot pins the same."
        ),
        why=(
            "An evicted driver ends the run and every stream on it; without fallback a cluster cannot start when "
            "Azure has no spot capacity, and a bid below -1's on-demand ceiling evicts on price "
            "(Clusters API AzureAttributes; docs/capacity.md, Spot)."
        ),
        remediation=(
            'Set azure_attributes={availability: "SPOT_WITH_FALLBACK_AZURE", first_on_demand: 1, '
            "spot_bid_max_price: -1} (or ON_DEMAND_AZURE), and fix the same in the cluster policy."
        ),
        framework=None,
    ),
    [CLUSTER, JOB, CLUSTER_POLICY],
)
def spot_driver_on_demand(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if r.type == CLUSTER_POLICY:
        definition = _parse_definition(r.get("definition"))
        if isinstance(definition, Mapping):
            yield from _spot_policy_problems(definition)
        return
    for label, spec in clusters_of(r):
        yield from _spot_spec_problems(label, spec)


@resource_policy(
    Meta(
        name="databricks-secret-scope-keyvault",
        control="PD-05",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description="Secret scopes are backed by Azure Key Vault (keyvaultMetadata set, backendType not DATABRICKS).",
        why=(
            "A Key Vault-backed scope keeps secrets under Key Vault RBAC, purge protection and audit logs instead of "
            "a workspace-local store."
        ),
        remediation="Create the scope with keyvaultMetadata={resourceId: <vault id>, dnsName: <vault uri>}.",
        framework=sat("DP-1", anchors="SAT DP-1"),
    ),
    [SECRET_SCOPE],
)
def secret_scope_keyvault(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    backend = r.get("backendType")
    if not is_unknown(backend) and backend is not None and backend != "AZURE_KEYVAULT":
        yield f"backendType is {backend!r}."
        return
    metadata = r.get("keyvaultMetadata")
    if is_unknown(metadata):
        return
    for key in ("resourceId", "dnsName"):
        if not is_set(dig(metadata, key)):
            yield f"keyvaultMetadata.{key} is not set: the scope is Databricks-backed."
            return


_BROAD = {"account users", "users", "all users", "all account users"}
_READ_ONLY = {"USE_CATALOG", "USE_SCHEMA", "BROWSE", "SELECT", "READ_VOLUME", "EXECUTE"}
_ADMIN = {"ALL_PRIVILEGES", "MANAGE"}


@resource_policy(
    Meta(
        name="databricks-uc-grants-least-privilege",
        control="PD-06",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Unity Catalog grants are least privilege: no ALL_PRIVILEGES or MANAGE except to allow-listed admin "
            "principals, "
            "and broad principals ('account users') get read-only privileges at most."
        ),
        why=(
            "ALL_PRIVILEGES on a catalog includes every future table; a grant to all account users exposes the data "
            "to every identity in the tenant."
        ),
        remediation=(
            "Grant named privileges (USE_CATALOG, USE_SCHEMA, SELECT, MODIFY...) to specific groups or service "
            "principals."
        ),
        framework=sat("GOV-21", anchors="SAT GOV-21, GOV-22"),
        config={
            "adminPrincipals": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Principals (group names or application ids) allowed ALL_PRIVILEGES/MANAGE.",
            }
        },
    ),
    [GRANTS, GRANT],
)
def uc_grants(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
    admins = {str(p).lower() for p in config["adminPrincipals"]}
    entries = [r.props] if r.type == GRANT else [g for g in as_list(r.get("grants")) if isinstance(g, Mapping)]
    for entry in entries:
        principal = dig(entry, "principal")
        privileges = {str(p).upper() for p in as_list(dig(entry, "privileges")) if p is not UNKNOWN}
        who = "<computed>" if is_unknown(principal) else repr(principal)
        admin = sorted(privileges & _ADMIN)
        if admin and not (isinstance(principal, str) and principal.lower() in admins):
            yield f"{who} is granted {admin}."
        if isinstance(principal, str) and principal.lower() in _BROAD:
            extra = sorted(privileges - _READ_ONLY - _ADMIN)
            if extra:
                yield f"broad principal {who} is granted {extra}."


@resource_policy(
    Meta(
        name="databricks-job-run-as-service-principal",
        control="PD-09",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Jobs run as a service principal (runAs.servicePrincipalName), never as a user or the job owner by default."
        ),
        why=(
            "A job that runs as a person keeps that person's access after they leave and mixes human and workload "
            "audit trails."
        ),
        remediation="Set runAs={'servicePrincipalName': <application id>}.",
        framework=sat("GOV-42", anchors="SAT GOV-42"),
    ),
    [JOB],
)
def job_run_as_sp(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    run_as = r.get("runAs")
    if is_unknown(run_as):
        return
    if is_set(dig(run_as or {}, "servicePrincipalName")):
        return
    if dig(run_as or {}, "userName") is not None:
        yield f"runAs.userName is {dig(run_as, 'userName')!r}: the job runs as a person."
    else:
        yield "runAs.servicePrincipalName is not set: the job runs as its owner."


@resource_policy(
    Meta(
        name="databricks-no-broad-manage-permissions",
        control="PD-09",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Object permissions give CAN_MANAGE/IS_OWNER to groups or service principals, never to the 'users' group "
            "or individual users."
        ),
        why="Manage rights on a job or cluster let the holder change what it runs and as whom.",
        remediation=(
            "Grant CAN_MANAGE to an admin group or the deploying service principal; give users CAN_VIEW or "
            "CAN_MANAGE_RUN."
        ),
        framework=sat("GOV-45", anchors="SAT GOV-45"),
    ),
    [PERMISSIONS],
)
def no_broad_manage(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if r.get("authorization") == "tokens":
        return
    for ac in as_list(r.get("accessControls")):
        if not isinstance(ac, Mapping) or dig(ac, "permissionLevel") not in ("CAN_MANAGE", "IS_OWNER"):
            continue
        if lower(dig(ac, "groupName")) == "users":
            yield f"the 'users' group has {dig(ac, 'permissionLevel')}."
        elif is_set(dig(ac, "userName")):
            yield f"user {dig(ac, 'userName')!r} has {dig(ac, 'permissionLevel')}."


@resource_policy(
    Meta(
        name="databricks-storage-credential-managed-identity",
        control="PD-07",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Unity Catalog storage and service credentials use an access connector's managed identity, not a service "
            "principal secret."
        ),
        why="A managed identity has no secret to leak or rotate.",
        remediation=(
            "Set azureManagedIdentity={accessConnectorId: <databricks:AccessConnector id>} and drop "
            "azureServicePrincipal."
        ),
        framework=None,
    ),
    [STORAGE_CREDENTIAL, SERVICE_CREDENTIAL],
)
def storage_credential_mi(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if r.get("azureServicePrincipal") is not None:
        yield "azureServicePrincipal is set: the credential uses a client secret."
    elif not is_set(r.get("azureManagedIdentity.accessConnectorId")) and not is_unknown(r.get("azureManagedIdentity")):
        yield "azureManagedIdentity.accessConnectorId is not set."


_HARDENING = (
    (RESTRICT_ADMINS, "restrictWorkspaceAdmins.status", "RESTRICT_TOKENS_AND_JOB_RUN_AS"),
    (DISABLE_LEGACY_DBFS, "disableLegacyDbfs.value", True),
    (DISABLE_LEGACY_ACCESS, "disableLegacyAccess.value", True),
)


@stack_policy(
    Meta(
        name="databricks-workspace-hardening-settings",
        control="PD-08",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Workspaces restrict admins (RESTRICT_TOKENS_AND_JOB_RUN_AS) and disable legacy DBFS and legacy access, "
            "through the workspace setting resources."
        ),
        why=(
            "Unrestricted workspace admins can mint tokens for and run jobs as any service principal; DBFS root "
            "and legacy access modes bypass Unity Catalog."
        ),
        remediation=(
            "Add RestrictWorkspaceAdminsSetting(status RESTRICT_TOKENS_AND_JOB_RUN_AS), DisableLegacyDbfsSetting and "
            "DisableLegacyAccessSetting (value true)."
        ),
        framework=sat("GOV-35", anchors="SAT GOV-35, DP-10, GOV-37"),
    )
)
def workspace_hardening(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    if not _uses_databricks(graph):
        return
    for type_, path, wanted in _HARDENING:
        settings = graph.of_type(type_)
        kind = type_.rsplit(":", 1)[-1]
        if not settings:
            yield None, f"no {kind}: the workspace keeps the default ({path} not {wanted})."
        for node in settings:
            value = node.get(path)
            if not is_unknown(value) and (as_bool(value) if isinstance(wanted, bool) else value) != wanted:
                yield node.urn, f"{kind} {node.name!r} sets {path}={value!r}; {wanted!r} is required."


POLICIES = [
    token_lifetime,
    exfiltration_settings,
    cluster_access_mode,
    clusters_use_policy,
    cluster_policy_access_mode,
    spot_driver_on_demand,
    secret_scope_keyvault,
    uc_grants,
    job_run_as_sp,
    no_broad_manage,
    storage_credential_mi,
    workspace_hardening,
]
