"""Storage accounts: identity-only, private, encrypted (catalogue rows ST-*)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    Framework,
    Graph,
    Meta,
    Node,
    Res,
    ZeroTrustResourcePolicy,
    all_of,
    as_bool,
    expect,
    expect_flag,
    is_unknown,
    lower,
    mcsb,
    must_be_true,
    resource_policy,
    set_top_level,
    stack_policy,
)
from .private_link import private_endpoint_policy

ACCOUNT = AZ + "storage:StorageAccount"
CONTAINER = AZ + "storage:BlobContainer"
BLOB_SERVICE = AZ + "storage:BlobServiceProperties"
SVC = "storage"


secure_transfer = ZeroTrustResourcePolicy(
    Meta(
        name="storage-secure-transfer",
        control="ST-01",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Storage accounts accept HTTPS only (enableHttpsTrafficOnly not false).",
        why=(
            "Plain HTTP exposes data and SAS tokens in transit; the provider default is true, so only an explicit "
            "false fails."
        ),
        remediation="Remove enableHttpsTrafficOnly=false (or set it to true).",
        framework=mcsb("DP-3", anchors="Azure Policy 404c3081; CKV_AZURE_3; Azure.Storage.SecureTransfer"),
    ),
    [ACCOUNT],
    expect_flag("enableHttpsTrafficOnly", True, hint=": the account accepts unencrypted HTTP"),
    fix=set_top_level("enableHttpsTrafficOnly", True, unless=lambda v: as_bool(v) is not False),
)


_TLS_OK = {"TLS1_2", "TLS1_3"}


min_tls = ZeroTrustResourcePolicy(
    Meta(
        name="storage-min-tls",
        control="ST-02",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Storage accounts require TLS 1.2 or later (minimumTlsVersion).",
        why="A missing minimumTlsVersion is read by Azure as TLS 1.0, which has known downgrade attacks.",
        remediation='Set minimumTlsVersion="TLS1_2".',
        framework=mcsb("DP-3", "v2", anchors="Azure Policy fe83a0eb; CKV_AZURE_44; Azure.Storage.MinTLS"),
    ),
    [ACCOUNT],
    expect("minimumTlsVersion", _TLS_OK, when_missing="; Azure then accepts TLS 1.0", hint="; TLS1_2 is the minimum"),
    fix=set_top_level("minimumTlsVersion", "TLS1_2", unless=lambda v: v in _TLS_OK),
)


no_shared_key = ZeroTrustResourcePolicy(
    Meta(
        name="storage-no-shared-key",
        control="ST-03",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Storage accounts disable Shared Key (account key and SAS) authorization: allowSharedKeyAccess=false."
        ),
        why=(
            "Account keys are long-lived bearer secrets that bypass Entra ID and RBAC; a missing value means keys are "
            "allowed."
        ),
        remediation=(
            "Set allowSharedKeyAccess=false (and defaultToOAuthAuthentication=true); grant data roles to managed "
            "identities."
        ),
        framework=mcsb("IM-1", anchors="Azure Policy 8c6a50c6; CKV2_AZURE_40"),
    ),
    [ACCOUNT],
    expect_flag(
        "allowSharedKeyAccess",
        False,
        when_missing="; Azure treats a missing value as true (Shared Key allowed)",
        hint=": account keys and SAS tokens can authorize requests",
    ),
)


no_anonymous_blob_access = ZeroTrustResourcePolicy(
    Meta(
        name="storage-no-anonymous-blob-access",
        control="ST-04",
        service=SVC,
        severity=Severity.CRITICAL,
        enforcement=EnforcementLevel.MANDATORY,
        description="Storage accounts forbid anonymous blob access (allowBlobPublicAccess not true).",
        why="Anonymous read access publishes data to the Internet without any identity.",
        remediation="Set allowBlobPublicAccess=false.",
        framework=mcsb("NS-2", anchors="Azure Policy 4fa4b6c0; CKV_AZURE_190; Azure.Storage.BlobPublicAccess"),
    ),
    [ACCOUNT],
    expect_flag("allowBlobPublicAccess", False, hint=": containers can be made publicly readable"),
    fix=set_top_level("allowBlobPublicAccess", False, unless=lambda v: as_bool(v) is not True),
)


container_private = ZeroTrustResourcePolicy(
    Meta(
        name="storage-container-private",
        control="ST-04",
        service=SVC,
        severity=Severity.CRITICAL,
        enforcement=EnforcementLevel.MANDATORY,
        description='Blob containers are private (publicAccess absent or "None").',
        why="A container with Blob or Container access serves its data to anonymous callers.",
        remediation='Remove publicAccess or set it to "None".',
        framework=mcsb("NS-2", anchors="CKV_AZURE_34; Azure.Storage.BlobAccessType; Trivy AZU-0007"),
    ),
    [CONTAINER],
    expect("publicAccess", (None, "None"), hint=": anonymous callers can read this container"),
    fix=set_top_level("publicAccess", "None", unless=lambda v: v in (None, "None")),
)


public_network_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="storage-public-network-disabled",
        control="ST-05",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            'Storage accounts disable public network access (publicNetworkAccess "Disabled" or "SecuredByPerimeter").'
        ),
        why="With public access on, the data plane is reachable from any network that can obtain a token.",
        remediation='Set publicNetworkAccess="Disabled" and reach the account through private endpoints.',
        framework=mcsb("NS-2", "v2", anchors="Azure Policy b2982f36; CKV_AZURE_59"),
    ),
    [ACCOUNT],
    expect(
        "publicNetworkAccess",
        ("Disabled", "SecuredByPerimeter"),
        when_missing="; Azure then leaves the public endpoint enabled",
    ),
)


firewall_default_deny = ZeroTrustResourcePolicy(
    Meta(
        name="storage-firewall-default-deny",
        control="ST-06",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Storage firewall denies by default (networkRuleSet.defaultAction "Deny").',
        why=(
            "The firewall is the second lock if public access is ever re-enabled; without a rule set Azure allows all "
            "networks."
        ),
        remediation='Set networkRuleSet={"defaultAction": "Deny", ...} with only the rules you need.',
        framework=mcsb("NS-2", anchors="Azure Policy 34c877ad; CKV_AZURE_35; Azure.Storage.Firewall; Trivy AZU-0012"),
    ),
    [ACCOUNT],
    expect(
        "networkRuleSet.defaultAction",
        ("deny",),
        normalise=lower,
        when_missing="; Azure then allows traffic from all networks",
    ),
)


infrastructure_encryption = ZeroTrustResourcePolicy(
    Meta(
        name="storage-infrastructure-encryption",
        control="ST-08",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Storage accounts enable infrastructure (double) encryption: "
            "encryption.requireInfrastructureEncryption=true."
        ),
        why=(
            "A second, independent encryption layer protects against a flaw in one algorithm or key; it can only be "
            "set at creation."
        ),
        remediation="Set encryption.requireInfrastructureEncryption=true when the account is created.",
        framework=mcsb("DP-4", "v2", anchors="Azure Policy 4733ea7b; Trivy AZU-0061"),
    ),
    [ACCOUNT],
    must_be_true("encryption.requireInfrastructureEncryption", " (default false)"),
)


no_local_users = ZeroTrustResourcePolicy(
    Meta(
        name="storage-no-local-users-sftp",
        control="ST-11",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Storage accounts disable local users (isLocalUserEnabled=false) and SFTP (isSftpEnabled not true)."
        ),
        why=(
            "Local users authenticate with passwords or SSH keys outside Entra ID; Azure enables the feature unless "
            "told otherwise."
        ),
        remediation="Set isLocalUserEnabled=false and leave isSftpEnabled unset or false.",
        framework=Framework("Checkov", "CKV_AZURE_244"),
    ),
    [ACCOUNT],
    all_of(
        expect_flag("isLocalUserEnabled", False, when_missing="; Azure then allows local users"),
        expect_flag("isSftpEnabled", False, hint=": SFTP endpoints authenticate local users, not Entra ID"),
    ),
)


no_cross_tenant_replication = ZeroTrustResourcePolicy(
    Meta(
        name="storage-no-cross-tenant-replication",
        control="ST-12",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Storage accounts do not allow object replication to other tenants (allowCrossTenantReplication not true)."
        ),
        why=(
            "Cross-tenant replication copies data to a tenant whose identities and policies this platform does not "
            "control."
        ),
        remediation="Set allowCrossTenantReplication=false.",
        framework=Framework("Azure Policy", "92a89a79"),
    ),
    [ACCOUNT],
    expect_flag("allowCrossTenantReplication", False),
)


def _endpoint_groups(account: Node) -> list[str]:
    return ["blob", "dfs"] if as_bool(account.get("isHnsEnabled")) is True else ["blob"]


private_endpoint = private_endpoint_policy(
    Meta(
        name="storage-private-endpoint",
        control="ST-16",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            'Every storage account has private endpoints: "blob", and also "dfs" when hierarchical namespace is on.'
        ),
        why=(
            "With public access disabled, a private endpoint is the only path in; a data lake needs dfs as well as "
            "blob."
        ),
        remediation=(
            "Add a network:PrivateEndpoint per group id whose privateLinkServiceConnections[].privateLinkServiceId is "
            "the account's id."
        ),
        framework=mcsb("NS-2", anchors="Azure Policy 6edd7eda; CKV2_AZURE_33"),
    ),
    ACCOUNT,
    "storage account",
    _endpoint_groups,
)


@resource_policy(
    Meta(
        name="storage-trusted-services-bypass",
        control="ST-07",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Whenever a storage firewall is on (networkRuleSet.defaultAction Deny), it lets trusted Azure services "
            'through (networkRuleSet.bypass contains "AzureServices").'
        ),
        why=(
            "Services such as Defender malware scanning, Network Watcher flow logs and Event Hubs capture reach a "
            "closed account only through the trusted-service path; without it they fail silently."
        ),
        remediation='Set networkRuleSet.bypass="AzureServices" (comma-combine with Logging/Metrics if needed).',
        framework=Framework("Checkov", "CKV_AZURE_36", None, "Azure Policy c9d007d0; Trivy AZU-0010"),
    ),
    [ACCOUNT],
)
def trusted_services_bypass(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    value = r.get("networkRuleSet.bypass")
    if is_unknown(value) or lower(r.get("networkRuleSet.defaultAction")) != "deny":
        return
    parts = {p.strip().lower() for p in str(value or "").split(",")}
    if "azureservices" not in parts:
        yield f"networkRuleSet.bypass is {value!r}; trusted Azure services are blocked."


customer_managed_key = ZeroTrustResourcePolicy(
    Meta(
        name="storage-customer-managed-key",
        control="ST-09",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description='Storage accounts encrypt with a customer-managed key (encryption.keySource "Microsoft.Keyvault").',
        why="A key the platform owns can be rotated and revoked independently of Microsoft's service keys.",
        remediation=(
            'Set encryption.keySource="Microsoft.Keyvault" with keyVaultProperties and a user-assigned '
            "encryptionIdentity."
        ),
        framework=mcsb("DP-5", anchors="Azure Policy 6fac406b; CKV2_AZURE_1"),
    ),
    [ACCOUNT],
    expect("encryption.keySource", ("microsoft.keyvault",), normalise=lower, unset="not set (Microsoft.Storage)"),
)


@stack_policy(
    Meta(
        name="storage-blob-soft-delete",
        control="ST-14",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Every storage account has blob service properties that keep deleted blobs and containers "
            "(deleteRetentionPolicy and containerDeleteRetentionPolicy enabled)."
        ),
        why=(
            "Soft delete is the undo for an accidental or malicious delete. Azure creates the blob service with "
            "both off, so an account without a storage:BlobServiceProperties has none: a missing companion fails."
        ),
        remediation=(
            'Add a storage:BlobServiceProperties (blobServicesName "default") for the account with '
            "deleteRetentionPolicy and containerDeleteRetentionPolicy set to enabled=true with days."
        ),
        framework=Framework("PSRule for Azure", "Azure.Storage.SoftDelete", None, "CKV2_AZURE_38; Trivy AZU-0056"),
    )
)
def blob_soft_delete(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for account in graph.of_type(ACCOUNT):
        services = graph.children(account, [BLOB_SERVICE], "accountName", "accountName")
        if not services:
            yield (
                account.urn,
                f"storage account {account.name!r} has no blob service properties, so blob and container soft "
                "delete are off.",
            )
        for service in services:
            for path in ("deleteRetentionPolicy.enabled", "containerDeleteRetentionPolicy.enabled"):
                value = service.get(path)
                if not is_unknown(value) and as_bool(value) is not True:
                    yield service.urn, f"{path} is {value!r} on the blob service of {account.name!r}; it must be true."


POLICIES = [
    secure_transfer,
    min_tls,
    no_shared_key,
    no_anonymous_blob_access,
    container_private,
    public_network_disabled,
    firewall_default_deny,
    infrastructure_encryption,
    no_local_users,
    no_cross_tenant_replication,
    private_endpoint,
    trusted_services_bypass,
    customer_managed_key,
    blob_soft_delete,
]

__all__ = ["ACCOUNT", "BLOB_SERVICE", "CONTAINER", "POLICIES"]
