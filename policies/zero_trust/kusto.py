"""Azure Data Explorer (the hot path): private, encrypted, no trusted outsiders (catalogue rows KU-*, new).

Kusto has no local (key) authentication to turn off: every call is Entra ID
(https://learn.microsoft.com/azure/data-explorer/security#authentication), so the pack's
"no local auth" control has nothing to configure here; external tenants are the
remaining way in, and KU-05 closes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    Meta,
    Res,
    ZeroTrustResourcePolicy,
    as_list,
    dig,
    expect,
    expect_flag,
    is_set,
    is_unknown,
    lower,
    mcsb,
    must_be_true,
)
from .private_link import private_endpoint_policy

CLUSTER = AZ + "kusto:Cluster"
SVC = "kusto"


public_network_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="kusto-public-network-disabled",
        control="KU-01",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Kusto clusters refuse public traffic (publicNetworkAccess "Disabled").',
        why="The default is Enabled: the query and ingestion endpoints would be on the Internet.",
        remediation='Set publicNetworkAccess="Disabled" and add a private endpoint for group id "cluster".',
        framework=mcsb("NS-2", anchors="Azure Policy 43bc7be6"),
    ),
    [CLUSTER],
    expect("publicNetworkAccess", ("disabled",), normalise=lower, unset="not set (Enabled)"),
)


outbound_restricted = ZeroTrustResourcePolicy(
    Meta(
        name="kusto-outbound-restricted",
        control="KU-02",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description='Kusto clusters restrict outbound access (restrictOutboundNetworkAccess "Enabled").',
        why="Queries can call out (externaldata, plugins); unrestricted, that is an exfiltration path.",
        remediation=(
            'Set restrictOutboundNetworkAccess="Enabled" and reach sources through managed private endpoints.'
        ),
        framework=mcsb("NS-2", anchors="ADX docs: restrict outbound access"),
    ),
    [CLUSTER],
    expect("restrictOutboundNetworkAccess", ("enabled",), normalise=lower, unset="not set (Disabled)"),
)


disk_encryption = ZeroTrustResourcePolicy(
    Meta(
        name="kusto-disk-encryption",
        control="KU-03",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description="Kusto clusters encrypt their disks (enableDiskEncryption=true).",
        why="Without it the cluster's local SSD cache, which holds hot data, is not encrypted at the host.",
        remediation="Set enableDiskEncryption=true.",
        framework=mcsb("DP-4", anchors="Azure Policy f4b53539"),
    ),
    [CLUSTER],
    must_be_true("enableDiskEncryption", " (default false)"),
)


def _cmk_and_double(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if not is_set(r.get("keyVaultProperties.keyName")):
        yield "keyVaultProperties is not set: data is encrypted with Microsoft-managed keys."
    double = r.get("enableDoubleEncryption")
    if not is_unknown(double) and double is not True:
        yield "enableDoubleEncryption is not true (it can only be set when the cluster is created)."


customer_managed_key = ZeroTrustResourcePolicy(
    Meta(
        name="kusto-cmk-double-encryption",
        control="KU-04",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Kusto clusters encrypt with a customer-managed key and double encryption (mandatory in prod: "
            "policies/config/prod.json)."
        ),
        why="A key the platform owns can be rotated and revoked; a second encryption layer guards one flaw.",
        remediation="Set keyVaultProperties (key, vault, userIdentity) and enableDoubleEncryption=true at creation.",
        framework=mcsb("DP-5", anchors="Azure Policy 81e74cea, ec068d99"),
    ),
    [CLUSTER],
    _cmk_and_double,
)


def _no_external_tenants(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    tenants = r.get("trustedExternalTenants")
    if is_unknown(tenants):
        return
    if tenants is None:
        yield "trustedExternalTenants is not set; Azure then trusts every tenant ('*')."
        return
    for tenant in as_list(tenants):
        value = dig(tenant, "value") if isinstance(tenant, Mapping) else tenant
        if value == "*":
            yield "trustedExternalTenants contains '*': principals of any tenant can be granted access."


no_external_tenants = ZeroTrustResourcePolicy(
    Meta(
        name="kusto-no-external-tenants",
        control="KU-05",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Kusto clusters trust no external tenant (trustedExternalTenants set, and never '*').",
        why="The API default trusts all tenants, so a principal from another directory could be given access.",
        remediation="Set trustedExternalTenants=[] (or list the exact tenant ids that must have access).",
        framework=mcsb("IM-1", anchors="ADX docs: trustedExternalTenants"),
    ),
    [CLUSTER],
    _no_external_tenants,
)


private_endpoint = private_endpoint_policy(
    Meta(
        name="kusto-private-endpoint",
        control="KU-06",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Every Kusto cluster has a private endpoint for group id "cluster".',
        why="With public access disabled the private endpoint is the only way to query or manage data.",
        remediation='Add a network:PrivateEndpoint with groupIds ["cluster"] to the cluster.',
        framework=mcsb("NS-2", anchors="Azure Policy 7b32f193"),
    ),
    CLUSTER,
    "Kusto cluster",
    ["cluster"],
)

purge_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="kusto-purge-disabled",
        control="KU-07",
        service=SVC,
        severity=Severity.LOW,
        enforcement=EnforcementLevel.ADVISORY,
        description="Kusto clusters keep purge off (enablePurge false) unless a data-subject process needs it.",
        why="Purge deletes data irrecoverably; the hot path holds trades, not personal data.",
        remediation="Leave enablePurge unset or false.",
        framework=mcsb("DP-8", anchors="ADX docs: data purge"),
    ),
    [CLUSTER],
    expect_flag("enablePurge", False),
)


POLICIES = [
    public_network_disabled,
    outbound_restricted,
    disk_encryption,
    customer_managed_key,
    no_external_tenants,
    private_endpoint,
    purge_disabled,
]

__all__ = ["CLUSTER", "POLICIES"]
