"""Key Vault: RBAC-only, private, unpurgeable, audited (catalogue rows KV-*).

In azure-native every vault setting except tags and location sits under `properties`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    UNKNOWN,
    Framework,
    Graph,
    Meta,
    Res,
    ZeroTrustResourcePolicy,
    all_of,
    as_list,
    dig,
    expect,
    expect_flag,
    expect_minimum,
    lower,
    mcsb,
    resource_policy,
    stack_policy,
)
from .monitoring import enabled_logs, settings_for
from .private_link import private_endpoint_policy

VAULT = AZ + "keyvault:Vault"
KEY = AZ + "keyvault:Key"
SECRET = AZ + "keyvault:Secret"
SVC = "keyvault"


rbac_authorization = ZeroTrustResourcePolicy(
    Meta(
        name="keyvault-rbac-authorization",
        control="KV-01",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Key Vaults authorize data-plane access with Azure RBAC (properties.enableRbacAuthorization=true).",
        why=(
            "Access policies are vault-local and invisible to PIM and role reviews; a missing value means access "
            "policies."
        ),
        remediation=(
            "Set properties.enableRbacAuthorization=true and grant Key Vault data roles with "
            "authorization:RoleAssignment."
        ),
        framework=mcsb("PA-7", anchors="Azure Policy 12d4fa5e; Azure.KeyVault.RBAC"),
    ),
    [VAULT],
    expect_flag("properties.enableRbacAuthorization", True, when_missing="; Azure then uses access policies"),
)


purge_protection = ZeroTrustResourcePolicy(
    Meta(
        name="keyvault-purge-protection",
        control="KV-02",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Key Vaults enable purge protection (properties.enablePurgeProtection=true).",
        why=(
            "Without it a compromised admin can delete and purge the keys that encrypt the platform's data, "
            "irrecoverably."
        ),
        remediation="Set properties.enablePurgeProtection=true (irreversible by design).",
        framework=mcsb("DP-8", anchors="Azure Policy 0b60c0b2; CKV_AZURE_110; Azure.KeyVault.PurgeProtect"),
    ),
    [VAULT],
    expect_flag("properties.enablePurgeProtection", True, when_missing=""),
)


soft_delete_retention = ZeroTrustResourcePolicy(
    Meta(
        name="keyvault-soft-delete-retention",
        control="KV-03",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description="Key Vaults keep soft delete on with at least minRetentionDays of retention (Azure default 90).",
        why=(
            "Soft delete is what purge protection protects; a short window shrinks the time to notice a malicious "
            "delete."
        ),
        remediation=(
            "Leave properties.enableSoftDelete unset or true and set properties.softDeleteRetentionInDays >= the "
            "configured minimum."
        ),
        framework=mcsb("DP-8", anchors="Azure Policy 1e66c121; CKV_AZURE_111; Azure.KeyVault.SoftDelete"),
        config={
            "minRetentionDays": {
                "type": "integer",
                "minimum": 7,
                "maximum": 90,
                "default": 90,
                "description": "Minimum soft-delete retention in days (Azure accepts 7-90).",
            }
        },
    ),
    [VAULT],
    all_of(
        expect_flag("properties.enableSoftDelete", True),
        expect_minimum("properties.softDeleteRetentionInDays", "minRetentionDays", default=90),
    ),
)


public_network_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="keyvault-public-network-disabled",
        control="KV-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Key Vaults disable public network access (properties.publicNetworkAccess "Disabled").',
        why="Disabled public access overrides every firewall rule; a missing value leaves the public endpoint on.",
        remediation='Set properties.publicNetworkAccess="Disabled" and use a private endpoint.',
        framework=mcsb("NS-2", "v2", anchors="Azure Policy 405c5871; CKV_AZURE_189"),
    ),
    [VAULT],
    expect(
        "properties.publicNetworkAccess",
        ("disabled",),
        normalise=lower,
        when_missing="; Azure then leaves the public endpoint enabled",
    ),
)


firewall_default_deny = ZeroTrustResourcePolicy(
    Meta(
        name="keyvault-firewall-default-deny",
        control="KV-05",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Key Vault firewall denies by default (properties.networkAcls.defaultAction "Deny").',
        why=(
            "The firewall is the fallback if public access is re-enabled; without networkAcls Azure allows all "
            "networks."
        ),
        remediation='Set properties.networkAcls={"defaultAction": "Deny", "bypass": "AzureServices"}.',
        framework=mcsb("NS-2", anchors="Azure Policy 55615ac9; CKV_AZURE_109; Azure.KeyVault.Firewall; Trivy AZU-0013"),
    ),
    [VAULT],
    expect(
        "properties.networkAcls.defaultAction",
        ("deny",),
        normalise=lower,
        when_missing="; Azure then allows all networks",
    ),
)


private_endpoint = private_endpoint_policy(
    Meta(
        name="keyvault-private-endpoint",
        control="KV-06",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Every Key Vault has a private endpoint (group id "vault").',
        why="With public access disabled the private endpoint is the only way in for workloads.",
        remediation=(
            "Add a network:PrivateEndpoint with privateLinkServiceConnections=[{privateLinkServiceId: <vault id>, "
            'groupIds: ["vault"]}].'
        ),
        framework=mcsb("NS-2", anchors="Azure Policy a6abeaec; CKV2_AZURE_32"),
    ),
    VAULT,
    "Key Vault",
    ["vault"],
)


_AUDIT = {"auditevent"}
_AUDIT_GROUPS = {"audit", "alllogs"}


@stack_policy(
    Meta(
        name="keyvault-audit-logs",
        control="KV-07",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            'Every Key Vault logs data-plane access: an enabled "AuditEvent" category or "audit"/"allLogs" category '
            "group."
        ),
        why="The audit log is the only record of which identity read which secret or used which key.",
        remediation=(
            'Add logs=[{"categoryGroup": "audit", "enabled": true}] (or allLogs) to the vault\'s diagnostic setting.'
        ),
        framework=mcsb("LT-3", anchors="Azure Policy cf820ca0; Azure.KeyVault.Logs"),
    )
)
def audit_logs(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for vault in graph.of_type(VAULT):
        found = False
        for setting in settings_for(graph, vault):
            for entry in enabled_logs(setting):
                if entry is UNKNOWN:
                    found = True
                    continue
                category, group = lower(dig(entry, "category")), lower(dig(entry, "categoryGroup"))
                if category in _AUDIT or group in _AUDIT_GROUPS or UNKNOWN in (category, group):
                    found = True
        if not found:
            yield (
                vault.urn,
                f"Key Vault {vault.name!r} has no diagnostic setting with AuditEvent (or audit/allLogs) enabled.",
            )


_RISKY = {"all", "purge"}


@resource_policy(
    Meta(
        name="keyvault-least-privilege-access-policies",
        control="KV-08",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            'Key Vault access policies grant no "all" or "purge" permission, even while RBAC makes them dormant.'
        ),
        why="Dormant access policies come back into force the moment RBAC authorization is switched off.",
        remediation="Remove properties.accessPolicies (use RBAC) or list only the operations each principal needs.",
        framework=Framework("PSRule for Azure", "Azure.KeyVault.AccessPolicy"),
    ),
    [VAULT],
)
def least_privilege_access_policies(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    for i, entry in enumerate(as_list(r.get("properties.accessPolicies"))):
        if entry is UNKNOWN:
            continue
        for kind in ("keys", "secrets", "certificates", "storage"):
            granted = {str(lower(p)) for p in as_list(dig(entry, ["permissions", kind])) if p is not UNKNOWN}
            bad = sorted(granted & _RISKY)
            if bad:
                who = dig(entry, "objectId", "?")
                yield f"accessPolicies[{i}] (objectId {who}) grants {kind} permission(s) {bad}."


@resource_policy(
    Meta(
        name="keyvault-key-rotation-expiry",
        control="KV-09",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Key Vault keys have an automatic rotation policy (a 'rotate' lifetime action); secrets have an expiry."
        ),
        why="Keys that never rotate widen the blast radius of a leaked key; secrets without expiry live forever.",
        remediation=(
            "Set properties.rotationPolicy.lifetimeActions=[{action: {type: 'rotate'}, trigger: {timeAfterCreate: "
            "'P90D'}}]; set properties.attributes.expires on secrets."
        ),
        framework=mcsb("DP-6", anchors="CKV_AZURE_112; Azure.KeyVault.AutoRotationPolicy; Trivy AZU-0014"),
    ),
    [KEY, SECRET],
)
def key_rotation(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if r.type == SECRET:
        if r.get("properties.attributes.expires") is None:
            yield "properties.attributes.expires is not set: the secret never expires."
        return
    actions = as_list(r.get("properties.rotationPolicy.lifetimeActions"))
    if UNKNOWN in actions:
        return
    kinds = {lower(dig(a, "action.type")) for a in actions}
    if "rotate" not in kinds and UNKNOWN not in kinds:
        yield "properties.rotationPolicy has no 'rotate' lifetime action."


POLICIES = [
    rbac_authorization,
    purge_protection,
    soft_delete_retention,
    public_network_disabled,
    firewall_default_deny,
    private_endpoint,
    audit_logs,
    least_privilege_access_policies,
    key_rotation,
]
