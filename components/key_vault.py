"""Key Vault: RBAC-only, purge-protected, private; holds the platform's CMKs and secrets.

Keys and secrets are created through the management plane (keyvault.Key /
keyvault.Secret), because the vault's firewall rejects data-plane calls from
the deploying runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumiverse_time as time
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
    # How long CMK consumers wait after their key grants are created (see KeyVault.grants_propagated).
    rbac_propagation: str = "600s"


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
        grants = {consumer.key: self._customer_managed_key(name, args, consumer) for consumer in args.cmk_consumers}
        self.grants_propagated: time.Sleep | None = None
        if grants:
            # A service configured with its key seconds after the key grant can fail with "key not accessible":
            # Key Vault documents that "it will take up to 10 minutes (600 seconds) after role assignments is
            # changed for role to be applied" (learn.microsoft.com/azure/key-vault/general/rbac-guide, "Known
            # limits and performance"). Every consumer waits for this one pulumiverse-time Sleep (the Terraform
            # time provider's time_sleep; github.com/pulumiverse/pulumi-time), which waits once on create and
            # again only when a grant changes (triggers). customTimeouts would not help: they never retry.
            self.grants_propagated = time.Sleep(
                f"{name}-key-grants-propagation",
                create_duration=args.rbac_propagation,
                triggers={key: grant.id for key, grant in grants.items()},
                opts=self._opts(depends_on=list(grants.values())),
            )
        self.customer_managed_keys: dict[str, CustomerManagedKeyArgs] = {
            consumer.key: self._consumer_args(consumer, grants[consumer.key]) for consumer in args.cmk_consumers
        }

        self.register_outputs(
            {"vault_id": self.vault_id, "vault_uri": self.vault_uri, "key_ids": {k: v.id for k, v in self.keys.items()}}
        )

    def _customer_managed_key(self, name: str, args: KeyVaultArgs, consumer: CmkConsumer) -> pulumi.CustomResource:
        """The consumer's key and its identity's crypto grant on that key alone; returns the grant."""
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
        (grant,) = self.add_role_assignments(
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
        return grant

    def _consumer_args(self, consumer: CmkConsumer, grant: pulumi.CustomResource) -> CustomerManagedKeyArgs:
        key_name = f"cmk-{consumer.key}"
        waits: tuple[pulumi.Resource, ...] = (grant, self.grants_propagated) if self.grants_propagated else (grant,)
        return CustomerManagedKeyArgs(
            key_vault_uri=self.vault_uri,
            key_name=key_name,
            key_uri=f"{self.vault_uri}keys/{key_name}",
            identity_id=consumer.identity_id,
            identity_client_id=consumer.identity_client_id,
            identity_principal_id=consumer.identity_principal_id,
            # The grant and the propagation wait: the consumer uses the key only after both.
            depends_on=waits,
            key_uri_with_version=self.keys[consumer.key].key_uri_with_version,
        )
