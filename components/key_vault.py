"""Key Vault: RBAC-only, purge-protected, private; holds the platform's CMKs and secrets.

Keys and secrets are created through the management plane (keyvault.Key /
keyvault.Secret), because the vault's firewall rejects data-plane calls from
the deploying runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import keyvault

from components.base import (
    CustomerManagedKeyArgs,
    PlatformComponent,
    RoleAssignmentArgs,
    ServiceArgs,
)
from components.roles import BuiltInRole


@dataclass(frozen=True)
class CmkConsumer:
    """A data service that encrypts with its own key, unwrapped by its own identity."""

    key: str  # e.g. "lake", "eventhubs", "sql"
    identity_id: pulumi.Input[str]
    identity_client_id: pulumi.Input[str]
    identity_principal_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class KeyVaultArgs(ServiceArgs):
    vault_name: str
    tenant_id: pulumi.Input[str]
    sku: str = "standard"
    soft_delete_retention_days: int = 90
    cmk_consumers: Sequence[CmkConsumer] = field(default_factory=tuple)
    key_type: str = "RSA"
    key_size: int = 3072
    key_rotation: str = "P1Y"
    key_expiry: str = "P2Y"


class KeyVault(PlatformComponent):
    """The platform vault; `customer_managed_keys[<key>]` hands each consumer its key."""

    def __init__(self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("KeyVault", name, args.common, opts)
        c = args.common
        self.vault = keyvault.Vault(
            f"{name}-kv",
            vault_name=args.vault_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName(args.sku)),
                enable_rbac_authorization=True,
                enable_purge_protection=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.soft_delete_retention_days,
                public_network_access="Disabled",
                # AzureServices bypass lets Storage, Event Hubs and SQL reach their CMKs (trusted services).
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action=keyvault.NetworkRuleAction.DENY,
                    bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                ),
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
            ),
            tags=dict(self.tags),
            opts=self._opts(protect=False),
        )
        # Known before apply, so consumers never wait on an unknown.
        self.vault_uri: str = f"https://{args.vault_name}.vault.azure.net/"
        self.vault_id: pulumi.Output[str] = self.vault.id
        self.add_diagnostics(name, self.vault, self.vault.id, args.diagnostics)
        self.add_private_endpoints(
            name, self.vault, self.vault.id, args.private_endpoints, lambda _: f"pe-{args.vault_name}"
        )
        self.add_role_assignments(name, {None: (self.vault, self.vault.id)}, args.role_assignments)

        self.keys: dict[str, keyvault.Key] = {}
        self.customer_managed_keys: dict[str, CustomerManagedKeyArgs] = {}
        for consumer in args.cmk_consumers:
            self.customer_managed_keys[consumer.key] = self._customer_managed_key(name, args, consumer)

        self.register_outputs(
            {"vault_id": self.vault_id, "vault_uri": self.vault_uri, "key_ids": {k: v.id for k, v in self.keys.items()}}
        )

    def _customer_managed_key(self, name: str, args: KeyVaultArgs, consumer: CmkConsumer) -> CustomerManagedKeyArgs:
        key_name = f"cmk-{consumer.key}"
        key = keyvault.Key(
            f"{name}-key-{consumer.key}",
            key_name=key_name,
            vault_name=self.vault.name,
            resource_group_name=args.common.resource_group_name,
            properties=keyvault.KeyPropertiesArgs(
                kty=keyvault.JsonWebKeyType(args.key_type),
                key_size=args.key_size,
                key_ops=[keyvault.JsonWebKeyOperation.WRAP_KEY, keyvault.JsonWebKeyOperation.UNWRAP_KEY],
                attributes=keyvault.KeyAttributesArgs(enabled=True, exportable=False),
                rotation_policy=keyvault.RotationPolicyArgs(
                    attributes=keyvault.KeyRotationPolicyAttributesArgs(expiry_time=args.key_expiry),
                    lifetime_actions=[
                        keyvault.LifetimeActionArgs(
                            action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.ROTATE),
                            trigger=keyvault.TriggerArgs(time_after_create=args.key_rotation),
                        ),
                        keyvault.LifetimeActionArgs(
                            action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.NOTIFY),
                            trigger=keyvault.TriggerArgs(time_before_expiry="P30D"),
                        ),
                    ],
                ),
            ),
            tags=dict(self.tags),
            opts=self._opts(depends_on=[self.vault]),
        )
        self.keys[consumer.key] = key
        # The consumer's identity may wrap/unwrap with this one key, nothing else in the vault.
        grants = self.add_role_assignments(
            f"{name}-key-{consumer.key}",
            {None: (key, key.id)},
            [
                RoleAssignmentArgs(
                    principal_id=consumer.identity_principal_id,
                    role=BuiltInRole.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                    name=f"{consumer.key}-cmk",
                )
            ],
        )
        return CustomerManagedKeyArgs(
            key_vault_uri=self.vault_uri,
            key_name=key_name,
            key_uri=f"{self.vault_uri}keys/{key_name}",
            identity_id=consumer.identity_id,
            identity_client_id=consumer.identity_client_id,
            identity_principal_id=consumer.identity_principal_id,
            depends_on=tuple(grants),
            key_uri_with_version=key.key_uri_with_version,
        )
