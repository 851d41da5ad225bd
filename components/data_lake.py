"""ADLS Gen2 lake for the medallion layers, private and key-less.

Shared-key auth is off, so every reader and writer -- Databricks' access
connector, Event Hubs capture, operators -- authenticates with Entra ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import storage

from components.base import (
    CustomerManagedKeyArgs,
    PlatformComponent,
    ServiceArgs,
)
from components.lake_rules import lifecycle_problems
from components.storage_account import StorageAccountSpec, private_storage_account

CONTAINERS = ("landing", "bronze", "silver", "gold", "checkpoints")


@dataclass(frozen=True)
class LifecycleArgs:
    tier_to_cool_after_days: int = 90
    expire_after_days: int = 730
    expiry_action: str = "cold"  # "archive" (LRS/GRS/RA-GRS only), "cold" or "delete"
    containers: Sequence[str] = ("landing",)


@dataclass(frozen=True)
class ResourceAccessArgs:
    """A resource instance allowed through the lake's firewall by its managed identity."""

    resource_id: pulumi.Input[str]
    tenant_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class DataLakeArgs(ServiceArgs):
    account_name: str
    replication: str = "ZRS"
    lifecycle: LifecycleArgs = LifecycleArgs()
    customer_managed_key: CustomerManagedKeyArgs | None = None
    # Resource instance rules: with public network access disabled, Unity Catalog's control plane reaches
    # the lake as the workspace's access connector only through such a rule (Databricks SRA, azure/tf/
    # modules/catalog/storage_account.tf: `private_link_access { endpoint_resource_id = <access connector> }`;
    # learn.microsoft.com/azure/storage/common/storage-network-security-resource-instances). Event Hubs
    # capture needs none: it is a trusted service ("Archive data with Event Hubs Capture"), let through by
    # bypass AzureServices, and writes with its managed identity
    # (learn.microsoft.com/azure/event-hubs/event-hubs-capture-managed-identity).
    resource_access: Sequence[ResourceAccessArgs] = ()


class DataLake(PlatformComponent):
    """Storage account (HNS) + medallion containers + lifecycle + private endpoints."""

    def __init__(self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("DataLake", name, args.common, opts)
        c = args.common
        cmk = args.customer_managed_key
        problems = lifecycle_problems(args.replication, args.lifecycle.expiry_action, args.lifecycle.containers)
        if problems:
            raise ValueError(f"{name}: " + "; ".join(problems))
        self.account, self.blob_service = private_storage_account(
            f"{name}-st",
            StorageAccountSpec(
                args.account_name,
                args.replication,
                hierarchical_namespace=True,
                customer_managed_key=cmk,
                resource_access_rules=[
                    storage.ResourceAccessRuleArgs(resource_id=r.resource_id, tenant_id=r.tenant_id)
                    for r in args.resource_access
                ],
            ),
            c,
            self._opts(),
            blob_service_name=name,
        )
        self.account_id: pulumi.Output[str] = self.account.id
        self.dfs_endpoint: str = f"https://{args.account_name}.dfs.core.windows.net/"

        self.containers: dict[str, storage.BlobContainer] = {}
        for container in CONTAINERS:
            self.containers[container] = storage.BlobContainer(
                f"{name}-{container}",
                container_name=container,
                account_name=self.account.name,
                resource_group_name=c.resource_group_name,
                public_access=storage.PublicAccess.NONE,
                opts=self._opts(depends_on=[self.account]),
            )

        self.lifecycle = self._lifecycle_policy(name, args)

        self.add_storage_account_wiring(name, self.account, args.account_name, args.diagnostics, args.private_endpoints)
        scopes: dict[str | None, tuple[pulumi.Resource, pulumi.Input[str]]] = {None: (self.account, self.account.id)}
        scopes.update({k: (v, v.id) for k, v in self.containers.items()})
        self.role_assignments = self.add_role_assignments(name, scopes, args.role_assignments)

        self.register_outputs(
            {
                "account_id": self.account_id,
                "account_name": self.account.name,
                "dfs_endpoint": self.dfs_endpoint,
            }
        )

    def abfss_url(self, container: str, path: str = "") -> str:
        """`abfss://<container>@<account>.dfs.core.windows.net/<path>`, known before apply."""
        if container not in CONTAINERS:
            raise ValueError(f"unknown container {container!r}; known: {CONTAINERS}")
        host = self.dfs_endpoint.removeprefix("https://").rstrip("/")
        return f"abfss://{container}@{host}/{path}"

    def _lifecycle_policy(self, name: str, args: DataLakeArgs) -> storage.ManagementPolicy:
        lc = args.lifecycle
        after = storage.DateAfterModificationArgs
        expiry = after(days_after_modification_greater_than=lc.expire_after_days)
        base_blob = storage.ManagementPolicyBaseBlobArgs(
            tier_to_cool=after(days_after_modification_greater_than=lc.tier_to_cool_after_days),
            tier_to_archive=expiry if lc.expiry_action == "archive" else None,
            tier_to_cold=expiry if lc.expiry_action == "cold" else None,
            delete=expiry if lc.expiry_action == "delete" else None,
        )
        return storage.ManagementPolicy(
            f"{name}-lifecycle",
            management_policy_name="default",
            account_name=self.account.name,
            resource_group_name=args.common.resource_group_name,
            policy=storage.ManagementPolicySchemaArgs(
                rules=[
                    storage.ManagementPolicyRuleArgs(
                        name=f"age-out-{container}",
                        type=storage.RuleType.LIFECYCLE,
                        enabled=True,
                        definition=storage.ManagementPolicyDefinitionArgs(
                            filters=storage.ManagementPolicyFilterArgs(
                                blob_types=["blockBlob"], prefix_match=[f"{container}/"]
                            ),
                            actions=storage.ManagementPolicyActionArgs(base_blob=base_blob),
                        ),
                    )
                    for container in lc.containers
                ]
            ),
            opts=self._opts(depends_on=list(self.containers.values())),
        )
