"""Azure Databricks workspace: Premium, VNet-injected, no public IPs, private front and back end.

The workspace lives in the foundation's delegated host/container subnets with
secure cluster connectivity; `requiredNsgRules=NoAzureDatabricksRules` sends
cluster-to-control-plane traffic over the `databricks_ui_api` private endpoint,
and with the public front end disabled the UI/API answers only there (plus
`browser_authentication` for Entra SSO). The workspace's own storage (DBFS
root) sits behind its firewall, reached through the access connector and its
own private endpoints. In prod, managed services and managed disks are
encrypted with a key from the platform Key Vault.

The component also builds the `databricks.Provider` for this workspace, from
the workspace's URL and ARM id, so every Databricks object is created through
this workspace and nothing else. With a private front end, the runner of
`pulumi up` must resolve and reach the workspace privately (docs/databricks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_databricks as dbx
from pulumi_azure_native import databricks, keyvault

from components.base import (
    CustomerManagedKeyArgs,
    PlatformComponent,
    PrivateEndpointArgs,
    RoleAssignmentArgs,
    ServiceArgs,
)
from components.roles import BuiltInRole

UI_API = "databricks_ui_api"
# The Azure Databricks account console / account API host.
ACCOUNTS_HOST = "https://accounts.azuredatabricks.net"
BROWSER_AUTH = "browser_authentication"


@dataclass(frozen=True)
class WorkspaceNetworkArgs:
    """The VNet injection target: the foundation's two subnets delegated to Microsoft.Databricks/workspaces."""

    vnet_id: pulumi.Input[str]
    host_subnet_id: pulumi.Input[str]  # Databricks calls it the "public" subnet; it has no public IPs
    container_subnet_id: pulumi.Input[str]  # the "private" subnet
    # Subnets, NSG associations and the NAT gateway must exist before the workspace.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


@dataclass(frozen=True)
class WorkspaceCmkArgs:
    """One Key Vault key for managed services, managed disks and (optionally) the DBFS root."""

    key: CustomerManagedKeyArgs  # depends_on carries the AzureDatabricks app's grant on the key
    # The key resource: its current version (the workspace pins one) and the scope the
    # disk-encryption-set and DBFS storage identities are granted on.
    key_resource: keyvault.Key
    # Second phase only (see docs/databricks.md): the DBFS root's identity exists after creation.
    encrypt_dbfs_root: bool = False


@dataclass(frozen=True, kw_only=True)
class DatabricksWorkspaceArgs(ServiceArgs):
    workspace_name: str
    managed_resource_group_name: str
    access_connector_name: str
    dbfs_storage_account_name: str
    network: WorkspaceNetworkArgs
    # private_endpoints: databricks_ui_api (front end, and back end with NoAzureDatabricksRules) and
    # browser_authentication (Entra SSO callback for a private front end; skipped with a public one).
    # The workspace storage account's "dfs" and "blob" endpoints (its firewall is on).
    dbfs_endpoints: Sequence[PrivateEndpointArgs]
    # User-assigned identity the access connector carries (Unity Catalog and the workspace storage use it).
    access_connector_identity_id: pulumi.Input[str]
    # pulumi-databricks auth_type: "github-oidc-azure", "azure-msi" or "azure-cli".
    provider_auth: str
    # The deployer becomes workspace admin through the account before the first workspace-level call
    # (see `DatabricksWorkspace._deployer_admin`): the Databricks account id and the deploying identity's
    # numeric account-level service-principal id.
    account_id: str | None = None
    deployer_account_principal_id: str | None = None
    # The region's Unity Catalog metastore, and whether this stack assigns it ("create") or Databricks
    # already did when it created the workspace ("automatic"; see `DatabricksWorkspace._metastore`).
    metastore_id: str | None = None
    metastore_assignment: Literal["create", "automatic"] = "create"
    # Earlier URNs of the assignment (it lived in the UnityCatalog component): kept by alias, no replacement.
    metastore_assignment_aliases: Sequence[pulumi.Input[str]] = ()
    # Explicit, named convenience; the back end stays private either way.
    allow_public_front_end: bool = False
    customer_managed_key: WorkspaceCmkArgs | None = None


def _text(value: pulumi.Input[str]) -> databricks.WorkspaceCustomStringParameterArgs:
    return databricks.WorkspaceCustomStringParameterArgs(value=value)


def _flag(value: bool) -> databricks.WorkspaceCustomBooleanParameterArgs:
    return databricks.WorkspaceCustomBooleanParameterArgs(value=value)


def _last_segment(resource_id: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(resource_id).apply(lambda i: i.rstrip("/").rsplit("/", 1)[-1])


class DatabricksWorkspace(PlatformComponent):
    """`workspace`, `access_connector`, `provider`; `ready` lists what Databricks objects must wait for."""

    def __init__(self, name: str, args: DatabricksWorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("DatabricksWorkspace", name, args.common, opts)
        c = args.common
        cmk = args.customer_managed_key

        self.access_connector = databricks.AccessConnector(
            f"{name}-connector",
            connector_name=args.access_connector_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            identity=databricks.ManagedServiceIdentityArgs(
                type=databricks.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[args.access_connector_identity_id],
            ),
            tags=dict(self.tags),
            opts=self._opts(),
        )

        managed_rg_id = pulumi.Output.concat(
            "/subscriptions/", c.subscription_id, "/resourceGroups/", args.managed_resource_group_name
        )
        key_version: pulumi.Output[str] | None = None
        encryption = None
        if cmk is not None:
            key_version = _last_segment(cmk.key_resource.key_uri_with_version)
            encryption = databricks.WorkspacePropertiesEncryptionArgs(
                entities=databricks.EncryptionEntitiesDefinitionArgs(
                    managed_services=databricks.EncryptionV2Args(
                        key_source=databricks.EncryptionKeySource.MICROSOFT_KEYVAULT,
                        key_vault_properties=databricks.EncryptionV2KeyVaultPropertiesArgs(
                            key_name=cmk.key.key_name, key_vault_uri=cmk.key.key_vault_uri, key_version=key_version
                        ),
                    ),
                    managed_disk=databricks.ManagedDiskEncryptionArgs(
                        key_source=databricks.EncryptionKeySource.MICROSOFT_KEYVAULT,
                        key_vault_properties=databricks.ManagedDiskEncryptionKeyVaultPropertiesArgs(
                            key_name=cmk.key.key_name, key_vault_uri=cmk.key.key_vault_uri, key_version=key_version
                        ),
                        rotation_to_latest_key_version_enabled=True,
                    ),
                )
            )

        parameters = databricks.WorkspaceCustomParametersArgs(
            custom_virtual_network_id=_text(args.network.vnet_id),
            custom_public_subnet_name=_text(_last_segment(args.network.host_subnet_id)),
            custom_private_subnet_name=_text(_last_segment(args.network.container_subnet_id)),
            enable_no_public_ip=databricks.WorkspaceNoPublicIPBooleanParameterArgs(value=True),
            require_infrastructure_encryption=_flag(True),
            storage_account_name=_text(args.dbfs_storage_account_name),
            prepare_encryption=_flag(True) if cmk is not None else None,
            encryption=databricks.WorkspaceEncryptionParameterArgs(
                value=databricks.EncryptionArgs(
                    key_source=databricks.KeySource.MICROSOFT_KEYVAULT,
                    key_name=cmk.key.key_name,
                    key_vault_uri=cmk.key.key_vault_uri,
                    key_version=key_version,
                )
            )
            if cmk is not None and cmk.encrypt_dbfs_root
            else None,
        )

        self.workspace = databricks.Workspace(
            f"{name}-dbw",
            workspace_name=args.workspace_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            sku=databricks.SkuArgs(name="premium"),
            compute_mode=databricks.ComputeMode.HYBRID,
            managed_resource_group_id=managed_rg_id,
            public_network_access=databricks.PublicNetworkAccess.ENABLED
            if args.allow_public_front_end
            else databricks.PublicNetworkAccess.DISABLED,
            required_nsg_rules=databricks.RequiredNsgRules.NO_AZURE_DATABRICKS_RULES,
            parameters=parameters,
            encryption=encryption,
            access_connector=databricks.WorkspacePropertiesAccessConnectorArgs(
                id=self.access_connector.id,
                identity_type=databricks.IdentityType.USER_ASSIGNED,
                user_assigned_identity_id=args.access_connector_identity_id,
            ),
            default_storage_firewall=databricks.DefaultStorageFirewall.ENABLED,
            tags=dict(self.tags),
            opts=self._opts(
                depends_on=[*args.network.depends_on, self.access_connector, *(cmk.key.depends_on if cmk else ())]
            ),
        )
        self.workspace_id: pulumi.Output[str] = self.workspace.id  # ARM id
        self.databricks_workspace_id: pulumi.Output[str] = self.workspace.workspace_id  # numeric, for Unity Catalog
        self.workspace_url: pulumi.Output[str] = self.workspace.workspace_url.apply(lambda u: f"https://{u}")

        self.add_diagnostics(name, self.workspace, self.workspace.id, args.diagnostics, metrics=False)

        self.ready: list[pulumi.Resource] = [self.workspace]
        endpoints = [
            e for e in args.private_endpoints if not (args.allow_public_front_end and e.group_id == BROWSER_AUTH)
        ]
        suffixes = {UI_API: "ui", BROWSER_AUTH: "auth"}
        for pe, zone_group in self.add_private_endpoints(
            name,
            self.workspace,
            self.workspace.id,
            endpoints,
            lambda e: f"pe-{args.workspace_name}-{suffixes.get(e.group_id, e.group_id)}",
        ):
            self.ready += [pe, zone_group]

        # The workspace storage account sits in the managed resource group, behind its firewall.
        dbfs_account_id = pulumi.Output.concat(
            managed_rg_id, "/providers/Microsoft.Storage/storageAccounts/", args.dbfs_storage_account_name
        )
        for endpoint in args.dbfs_endpoints:
            self.add_private_endpoint(
                f"{name}-dbfs",
                self.workspace,
                dbfs_account_id,
                endpoint,
                f"pe-{args.dbfs_storage_account_name}-{endpoint.group_id}",
            )

        self.key_grants: list[pulumi.Resource] = []
        if cmk is not None:
            # Databricks creates these identities with the workspace; they may unwrap this one key only.
            grants = [
                RoleAssignmentArgs(
                    principal_id=self.workspace.managed_disk_identity.apply(lambda i: i.principal_id if i else ""),
                    role=BuiltInRole.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                    name="managed-disk",
                    description="Databricks managed disks' encryption set unwraps the workspace key",
                ),
                RoleAssignmentArgs(
                    principal_id=self.workspace.storage_account_identity.apply(lambda i: i.principal_id if i else ""),
                    role=BuiltInRole.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                    name="dbfs-root",
                    description="The workspace storage (DBFS root) unwraps the workspace key",
                ),
            ]
            self.key_grants = list(
                self.add_role_assignments(f"{name}-key", {None: (cmk.key_resource, cmk.key_resource.id)}, grants)
            )
            self.ready += self.key_grants
        self.add_role_assignments(name, {None: (self.workspace, self.workspace.id)}, args.role_assignments)

        # Every Databricks object goes through this provider: this workspace's URL and ARM id, Entra auth.
        self.provider = dbx.Provider(
            f"{name}-provider",
            host=self.workspace_url,
            azure_workspace_resource_id=self.workspace.id,
            auth_type=args.provider_auth,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Account-level calls (metastore assignment, the deployer's workspace admin) go to the account API.
        self.account_provider: dbx.Provider | None = (
            dbx.Provider(
                f"{name}-account-provider",
                host=ACCOUNTS_HOST,
                account_id=args.account_id,
                auth_type=args.provider_auth,
                opts=pulumi.ResourceOptions(parent=self),
            )
            if args.account_id is not None
            else None
        )
        # What makes the workspace a Unity Catalog (and identity-federated) workspace: the assignment, or,
        # when Databricks assigned it at creation ("automatic"), the workspace itself.
        self.metastore_assignment = self._metastore(name, args)
        self.deployer_admin: dbx.MwsPermissionAssignment | None = None
        if self.account_provider is not None and args.deployer_account_principal_id is not None:
            self.deployer_admin = self._deployer_admin(name, args, self.account_provider)
            self.ready.append(self.deployer_admin)
        if self.metastore_assignment is not None:
            self.ready.append(self.metastore_assignment)

        self.register_outputs(
            {
                "workspace_id": self.workspace_id,
                "workspace_url": self.workspace_url,
                "databricks_workspace_id": self.databricks_workspace_id,
                "access_connector_id": self.access_connector.id,
            }
        )

    def _metastore(self, name: str, args: DatabricksWorkspaceArgs) -> dbx.MetastoreAssignment | None:
        """Assign the region's metastore to the workspace ("create" mode), through the account API.

        Workspaces created in a region that has a metastore are normally assigned to it automatically
        (learn.microsoft.com/azure/databricks/data-governance/unity-catalog/get-started, "automatic
        enablement"); the provider's create is a plain create (account POST or workspace PUT,
        databricks/terraform-provider-databricks catalog/resource_metastore_assignment.go), so it is made only
        in "create" mode, and never removed by a mode switch: retain_on_delete keeps the workspace assigned.

        With an account provider it is an account-level call ("can be used with an account or workspace-level
        provider", docs/resources/metastore_assignment.md), as in the Databricks security reference
        architecture (databricks/terraform-databricks-sra azure/tf/modules/workspace/main.tf): it needs no
        workspace login, and it must come first, because assigning principals to a workspace works only once
        the workspace is identity-federated, that is assigned to a metastore (learn.microsoft.com/azure/
        databricks/data-governance/unity-catalog/enable-workspaces: "Identity federation is enabled for the
        workspace ... This includes assigning users to workspaces"). Without one (azure-cli, azure-msi auth,
        which make the deployer admin on first login) it goes through the workspace and waits for its
        private endpoints.
        """
        if args.metastore_id is None or args.metastore_assignment != "create":
            return None
        account = self.account_provider
        return dbx.MetastoreAssignment(
            f"{name}-metastore-assignment",
            metastore_id=args.metastore_id,
            workspace_id=self.databricks_workspace_id,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=account if account is not None else self.provider,
                depends_on=[self.workspace] if account is not None else list(self.ready),
                retain_on_delete=True,
                aliases=list(args.metastore_assignment_aliases) or None,
            ),
        )

    def _deployer_admin(
        self, name: str, args: DatabricksWorkspaceArgs, account_provider: dbx.Provider
    ) -> dbx.MwsPermissionAssignment:
        """Make the deploying identity workspace admin through the account, before any workspace-level call.

        With `github-oidc-azure` the provider sends only the Entra token of ARM_CLIENT_ID (databricks-sdk-go
        config/auth_azure_github_oidc.go); only `azure-client-secret` adds the
        X-Databricks-Azure-SP-Management-Token header that turns "Contributor on the workspace" into admin
        on first login (learn.microsoft.com/azure/databricks/dev-tools/auth/azure-sp "admin user login";
        "Management API token must be provided for service principal admin user login" otherwise). So an
        account-level provider (accounts.azuredatabricks.net, same auth) assigns the deployer ADMIN on the
        new workspace (databricks_mws_permission_assignment, "can only be used with an account-level
        provider"); `ready` carries the assignment, so every workspace object waits for it. It waits for the
        workspace's metastore assignment (identity federation, see `_metastore`), as the security reference
        architecture's did (databricks/terraform-databricks-sra 3f68f36, azure/tf/modules/workspace/main.tf,
        "Grant admin access to the provisioner account to the workspace"; SRA later switched to Contributor,
        05f4c97, which works only with auths that send the management token).
        """
        return dbx.MwsPermissionAssignment(
            f"{name}-deployer-admin",
            workspace_id=self.databricks_workspace_id,
            principal_id=args.deployer_account_principal_id,
            permissions=["ADMIN"],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=account_provider,
                depends_on=[self.workspace, *([self.metastore_assignment] if self.metastore_assignment else [])],
            ),
        )
