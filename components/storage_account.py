"""The one way the platform makes a storage account: private, keyless, double-encrypted, soft-deleting.

Used by every component that owns an account, so the zero-trust settings live in
one place: TLS 1.2, HTTPS only, no shared keys (Entra ID only), no anonymous
blob access, no local users or SFTP, no cross-tenant replication, public network
access disabled with a default-deny firewall that lets trusted Azure services
through, infrastructure encryption, and a customer-managed key when given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import storage

from components.base import CommonArgs, CustomerManagedKeyArgs
from components.lake_rules import SOFT_DELETE_DAYS


@dataclass(frozen=True)
class StorageAccountSpec:
    account_name: str
    replication: str  # LRS, ZRS, GRS, GZRS, RAGRS, RAGZRS
    hierarchical_namespace: bool = False
    customer_managed_key: CustomerManagedKeyArgs | None = None
    # Extra user-assigned identities the account carries (the CMK identity is added automatically).
    identity_ids: Sequence[pulumi.Input[str]] = ()
    # Resource instances let through the firewall (e.g. a Databricks access connector).
    resource_access_rules: Sequence[storage.ResourceAccessRuleArgs] = ()


def encryption_args(cmk: CustomerManagedKeyArgs | None) -> storage.EncryptionArgs:
    """Infrastructure (double) encryption always; the customer-managed key and its identity when given."""
    return storage.EncryptionArgs(
        require_infrastructure_encryption=True,
        services=storage.EncryptionServicesArgs(
            blob=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
            file=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
        ),
        key_source=storage.KeySource.MICROSOFT_KEYVAULT if cmk else storage.KeySource.MICROSOFT_STORAGE,
        key_vault_properties=storage.KeyVaultPropertiesArgs(key_name=cmk.key_name, key_vault_uri=cmk.key_vault_uri)
        if cmk
        else None,
        encryption_identity=storage.EncryptionIdentityArgs(encryption_user_assigned_identity=cmk.identity_id)
        if cmk
        else None,
    )


def private_storage_account(
    logical_name: str,
    spec: StorageAccountSpec,
    common: CommonArgs,
    opts: pulumi.ResourceOptions,
    *,
    blob_service_name: str | None = None,
) -> tuple[storage.StorageAccount, storage.BlobServiceProperties]:
    """The account and its soft-deleting blob service (`blob_service_name` keeps an existing one's URN)."""
    cmk = spec.customer_managed_key
    identities = [*spec.identity_ids, *([cmk.identity_id] if cmk else [])]
    account = storage.StorageAccount(
        logical_name,
        account_name=spec.account_name,
        resource_group_name=common.resource_group_name,
        location=common.location,
        kind=storage.Kind.STORAGE_V2,
        sku=storage.SkuArgs(name=storage.SkuName(f"Standard_{spec.replication}")),
        access_tier=storage.AccessTier.HOT,
        is_hns_enabled=spec.hierarchical_namespace,
        enable_https_traffic_only=True,
        minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        allow_blob_public_access=False,
        allow_cross_tenant_replication=False,
        is_local_user_enabled=False,
        is_sftp_enabled=False,
        public_network_access=storage.PublicNetworkAccess.DISABLED,
        network_rule_set=storage.NetworkRuleSetArgs(
            default_action=storage.DefaultAction.DENY,
            bypass=storage.Bypass.AZURE_SERVICES,
            resource_access_rules=list(spec.resource_access_rules) or None,
        ),
        encryption=encryption_args(cmk),
        identity=storage.IdentityArgs(type=storage.IdentityType.USER_ASSIGNED, user_assigned_identities=identities)
        if identities
        else None,
        tags=dict(common.tags),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(cmk.depends_on) if cmk else [])),
    )
    return account, soft_delete_blob_service(blob_service_name or logical_name, account, common, opts)


def soft_delete_blob_service(
    logical_name: str, account: storage.StorageAccount, common: CommonArgs, opts: pulumi.ResourceOptions
) -> storage.BlobServiceProperties:
    """Blob and container soft delete on the account's blob service: the undo for a delete.

    Azure creates the blob service with both off, so an account without this companion has none (the
    `storage-blob-soft-delete` policy fails it). Both work on hierarchical-namespace accounts; blob
    versioning and change feed do not (components/lake_rules.py), so they are not set.
    azure-native treats the `default` blob service as a resource that always exists
    (provider/pkg/openapi/defaults/defaultResourcesState.go), so creating it never conflicts.
    """
    return storage.BlobServiceProperties(
        f"{logical_name}-blob-service",
        blob_services_name="default",
        account_name=account.name,
        resource_group_name=common.resource_group_name,
        delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=SOFT_DELETE_DAYS),
        container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=SOFT_DELETE_DAYS),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[account])),
    )
