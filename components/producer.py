"""Seed 002's producer: the API poller on Azure Functions (Flex Consumption), private and keyless.

Why Flex Consumption: it is the serverless Functions plan with virtual network
integration (outbound) and private endpoints (inbound); the classic Consumption
plan has neither (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan,
https://learn.microsoft.com/azure/azure-functions/functions-networking-options). Flex runs
Linux only, takes its runtime from `functionAppConfig.runtime` (the FUNCTIONS_WORKER_RUNTIME
and FUNCTIONS_EXTENSION_VERSION app settings are not allowed there:
https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations),
and integrates with a subnet delegated to Microsoft.App/environments.

Keyless throughout, with the producer's user-assigned identity:
- host storage through an identity-based connection (`AzureWebJobsStorage__accountName`,
  `__credential=managedidentity`, `__clientId`); the identity holds Storage Blob Data Owner on
  the host account, the role the docs name for host storage
  (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity);
  the deployment container is read with the same identity (`UserAssignedIdentity` authentication);
- Application Insights with local auth off: telemetry is sent with an Entra token
  (`APPLICATIONINSIGHTS_AUTHENTICATION_STRING=ClientId=...;Authorization=AAD`), which needs
  Monitoring Metrics Publisher on the component
  (https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication);
- secrets only as Key Vault references resolved with `keyVaultReferenceIdentity`, the identity
  granted Key Vault Secrets User on each referenced secret only (secret-scope RBAC:
  https://learn.microsoft.com/azure/key-vault/general/rbac-guide);
- Event Hubs Data Sender on the trades hub is granted by the Event Hubs component to the same identity.

The code is deployed by the stack: a OneDeploy of the package whose content hash is the
command's trigger, so an unchanged package is never redeployed (see `deploy_command`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import applicationinsights, keyvault, storage, web

from components.base import (
    CustomerManagedKeyArgs,
    PlatformComponent,
    PrivateEndpointArgs,
    RoleAssignmentArgs,
    ServiceArgs,
)
from components.roles import BuiltInRole
from components.storage_account import StorageAccountSpec, private_storage_account

DEPLOYMENT_CONTAINER = "app-package"
STATE_CONTAINER = "poller-state"
CURSOR_BLOB = "cursor.json"
SITES_GROUP = "sites"
# The zone a Function App's `sites` private endpoint registers in (app and scm records): the
# "Azure Web Apps / Azure Function Apps (Microsoft.Web/sites) | sites" row of
# https://learn.microsoft.com/azure/private-link/private-endpoint-dns.
SITES_DNS_ZONE = "privatelink.azurewebsites.net"
# The value the API key secret is created with; the poller refuses it (producers/api_poller/settings.py).
API_KEY_PLACEHOLDER = "unset: az keyvault secret set --vault-name <vault> --name <secret> --file <key file>"


@dataclass(frozen=True)
class ProducerIdentity:
    id: pulumi.Input[str]
    client_id: pulumi.Input[str]
    principal_id: pulumi.Input[str]


@dataclass(frozen=True)
class KeyVaultReference:
    """A secret in the platform vault, referenced from an app setting and readable by the identity only."""

    setting: str  # the app setting that carries the reference, e.g. POLLER_API_KEY
    secret_name: str
    # The resource that creates the secret (a role assignment's scope must exist); None: this component does.
    secret: pulumi.Resource | None = None
    # True when the identity already holds Key Vault Secrets User on the secret (the Confluent component
    # grants the producer its key pair): a second assignment of the same role, principal and scope is
    # refused by Azure (RoleAssignmentExists), so this component then only references the secret.
    granted: bool = False


@dataclass(frozen=True)
class PollerSink:
    """Where the poller sends: Event Hubs (namespace FQDN) or Confluent (bootstrap, key references)."""

    kind: str  # "eventhubs" | "kafka-confluent"
    topic: str
    eventhubs_namespace: pulumi.Input[str] | None = None
    kafka_bootstrap: pulumi.Input[str] | None = None


@dataclass(frozen=True, kw_only=True)
class ApiPollerArgs(ServiceArgs):
    """`private_endpoints` are the app's inbound endpoints (`sites`); `storage_endpoints` the host storage's."""

    app_name: str
    plan_name: str
    storage_account_name: str
    insights_name: str
    storage_replication: str
    storage_endpoints: Sequence[PrivateEndpointArgs]
    integration_subnet_id: pulumi.Input[str]
    identity: ProducerIdentity
    workspace_resource_id: pulumi.Input[str]
    key_vault: keyvault.Vault
    api_key: KeyVaultReference
    sink: PollerSink
    kafka_key_references: Sequence[KeyVaultReference] = ()
    # POLLER_* settings that are not secrets (schedule, URL, header name, paging, timeouts).
    settings: Mapping[str, str] = field(default_factory=dict)
    python_version: str = "3.11"
    maximum_instance_count: int = 40
    instance_memory_mb: int = 2048
    customer_managed_key: CustomerManagedKeyArgs | None = None
    package_hash: str = ""
    # The OneDeploy command (deploy_command), run when package_hash changes; empty: no code deployment.
    package_command: pulumi.Input[str] = ""


class ApiPoller(PlatformComponent):
    """Function App (Flex Consumption) + its private host storage, Application Insights and code deployment."""

    def __init__(self, name: str, args: ApiPollerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ApiPoller", name, args.common, opts)
        c = args.common
        ident = args.identity
        self.storage_account, self.blob_service = private_storage_account(
            f"{name}-st",
            StorageAccountSpec(
                args.storage_account_name, args.storage_replication, customer_managed_key=args.customer_managed_key
            ),
            c,
            self._opts(),
        )
        account = self.storage_account
        self.containers = {
            container: storage.BlobContainer(
                f"{name}-{container}",
                container_name=container,
                account_name=account.name,
                resource_group_name=c.resource_group_name,
                public_access=storage.PublicAccess.NONE,
                opts=self._opts(depends_on=[account]),
            )
            for container in (DEPLOYMENT_CONTAINER, STATE_CONTAINER)
        }
        blob_endpoint = f"https://{args.storage_account_name}.blob.core.windows.net"

        self.insights = applicationinsights.Component(
            f"{name}-appi",
            resource_name_=args.insights_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="web",
            application_type=applicationinsights.ApplicationType.WEB,
            workspace_resource_id=args.workspace_resource_id,
            ingestion_mode=applicationinsights.IngestionMode.LOG_ANALYTICS,
            disable_local_auth=True,
            tags=dict(self.tags),
            opts=self._opts(),
        )

        self.plan = web.AppServicePlan(
            f"{name}-plan",
            name=args.plan_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="functionapp",
            reserved=True,  # Linux
            sku=web.SkuDescriptionArgs(name="FC1", tier="FlexConsumption"),
            tags=dict(self.tags),
            opts=self._opts(),
        )

        role_scopes: dict[str | None, tuple[pulumi.Resource, pulumi.Input[str]]] = {
            "host-storage": (account, account.id),
            "insights": (self.insights, self.insights.id),
        }
        grants = [
            RoleAssignmentArgs(
                principal_id=ident.principal_id,
                role=BuiltInRole.STORAGE_BLOB_DATA_OWNER,
                name="host-storage",
                sub_scope="host-storage",
                description="API poller: Functions host storage, deployment package and cursor (identity-based)",
            ),
            RoleAssignmentArgs(
                principal_id=ident.principal_id,
                role=BuiltInRole.MONITORING_METRICS_PUBLISHER,
                name="insights",
                sub_scope="insights",
                description="API poller: sends telemetry with an Entra token (local auth is off)",
            ),
        ]
        self.api_key_secret = self._api_key_secret(name, args) if args.api_key.secret is None else args.api_key.secret
        references = (args.api_key, *args.kafka_key_references)
        for ref in references:
            if ref.granted:
                continue
            scope = pulumi.Output.concat(args.key_vault.id, "/secrets/", ref.secret_name)
            role_scopes[f"secret-{ref.secret_name}"] = (ref.secret or self.api_key_secret, scope)
            grants.append(
                RoleAssignmentArgs(
                    principal_id=ident.principal_id,
                    role=BuiltInRole.KEY_VAULT_SECRETS_USER,
                    name=f"secret-{ref.secret_name}",
                    sub_scope=f"secret-{ref.secret_name}",
                    description=f"API poller: reads the {ref.secret_name} secret (its Key Vault reference) only",
                )
            )
        self.role_assignments = self.add_role_assignments(name, role_scopes, [*grants, *args.role_assignments])

        app_settings = {
            "AzureWebJobsStorage__accountName": args.storage_account_name,
            "AzureWebJobsStorage__credential": "managedidentity",
            "AzureWebJobsStorage__clientId": ident.client_id,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": self.insights.connection_string,
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": pulumi.Output.concat(
                "ClientId=", ident.client_id, ";Authorization=AAD"
            ),
            "POLLER_IDENTITY_CLIENT_ID": ident.client_id,
            "POLLER_CURSOR_BLOB_URL": f"{blob_endpoint}/{STATE_CONTAINER}/{CURSOR_BLOB}",
            "POLLER_SINK": args.sink.kind,
            "POLLER_TOPIC": args.sink.topic,
            **({"POLLER_EVENTHUBS_NAMESPACE": args.sink.eventhubs_namespace} if args.sink.eventhubs_namespace else {}),
            **({"POLLER_KAFKA_BOOTSTRAP": args.sink.kafka_bootstrap} if args.sink.kafka_bootstrap else {}),
            **{ref.setting: key_vault_reference(args.key_vault.name, ref.secret_name) for ref in references},
            **args.settings,
        }
        self.app = web.WebApp(
            f"{name}-func",
            name=args.app_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="functionapp,linux",
            server_farm_id=self.plan.id,
            identity=web.ManagedServiceIdentityArgs(
                type=web.ManagedServiceIdentityType.USER_ASSIGNED, user_assigned_identities=[ident.id]
            ),
            key_vault_reference_identity=ident.id,
            https_only=True,
            public_network_access="Disabled",
            client_cert_enabled=False,
            virtual_network_subnet_id=args.integration_subnet_id,
            function_app_config=web.FunctionAppConfigArgs(
                deployment=web.FunctionsDeploymentArgs(
                    storage=web.FunctionsDeploymentStorageArgs(
                        type=web.FunctionsDeploymentStorageType.BLOB_CONTAINER,
                        value=f"{blob_endpoint}/{DEPLOYMENT_CONTAINER}",
                        authentication=web.FunctionsDeploymentStorageAuthenticationArgs(
                            type=web.AuthenticationType.USER_ASSIGNED_IDENTITY,
                            user_assigned_identity_resource_id=ident.id,
                        ),
                    )
                ),
                runtime=web.FunctionsRuntimeArgs(name=web.RuntimeName.PYTHON, version=args.python_version),
                scale_and_concurrency=web.FunctionsScaleAndConcurrencyArgs(
                    maximum_instance_count=args.maximum_instance_count,
                    instance_memory_mb=args.instance_memory_mb,
                ),
            ),
            site_config=web.SiteConfigArgs(
                ftps_state=web.FtpsState.DISABLED,
                min_tls_version=web.SupportedTlsVersions.SUPPORTED_TLS_VERSIONS_1_2,
                scm_min_tls_version=web.SupportedTlsVersions.SUPPORTED_TLS_VERSIONS_1_2,
                http20_enabled=True,
                app_settings=[web.NameValuePairArgs(name=k, value=v) for k, v in sorted(app_settings.items())],
            ),
            tags=dict(self.tags),
            # The host reads its storage and the package with the identity: roles first.
            opts=self._opts(depends_on=[*self.containers.values(), *self.role_assignments]),
        )
        # Basic (publishing-profile) authentication off for FTP and the SCM site: deployments use Entra ID.
        self.basic_auth = [
            policy(
                f"{name}-{kind}-basic-auth-off",
                name=args.app_name,
                resource_group_name=c.resource_group_name,
                allow=False,
                opts=self._opts(depends_on=[self.app]),
            )
            for kind, policy in (("ftp", web.WebAppFtpAllowed), ("scm", web.WebAppScmAllowed))
        ]
        self.add_diagnostics(name, self.app, self.app.id, args.diagnostics)
        self.add_private_endpoints(
            name, self.app, self.app.id, args.private_endpoints, lambda e: f"pe-{args.app_name}-{e.group_id}"
        )
        self.add_storage_account_wiring(
            f"{name}-st", account, args.storage_account_name, args.diagnostics, args.storage_endpoints
        )
        self.deployment = self._deploy_code(name, args) if args.package_command else None
        self.register_outputs({"app_id": self.app.id, "app_name": self.app.name, "storage_account_id": account.id})

    def _api_key_secret(self, name: str, args: ApiPollerArgs) -> keyvault.Secret:
        """The API key's secret, created through the management plane with a placeholder the poller refuses.

        The stack owns that the secret exists (its reference and its secret-scope role need it);
        the API's owner sets the value (docs/producers.md), and `ignore_changes` keeps it.
        """
        return keyvault.Secret(
            f"{name}-api-key",
            secret_name=args.api_key.secret_name,
            vault_name=args.key_vault.name,
            resource_group_name=args.common.resource_group_name,
            properties=keyvault.SecretPropertiesArgs(
                # A published placeholder, not a credential: plain, so state and plans hold no secret of ours.
                value=API_KEY_PLACEHOLDER,
                content_type="text/plain",
            ),
            tags={**self.tags, "setBy": "api-owner"},
            opts=self._opts(depends_on=[args.key_vault], ignore_changes=["properties.value"]),
        )

    def _deploy_code(self, name: str, args: ApiPollerArgs) -> pulumi.Resource:
        from pulumi_command import local

        return local.Command(
            f"{name}-deploy-code",
            create=args.package_command,
            # Re-run exactly when the package's content changes (or the app is replaced).
            triggers=[args.package_hash, self.app.id],
            environment={"PACKAGE_HASH": args.package_hash},
            opts=self._opts(depends_on=[self.app, *self.basic_auth]),
        )


def key_vault_reference(vault_name: pulumi.Input[str], secret_name: str) -> pulumi.Output[str]:
    """The App Service Key Vault reference syntax (versionless, so a rotated secret is picked up within a day)."""
    return pulumi.Output.concat("@Microsoft.KeyVault(VaultName=", vault_name, ";SecretName=", secret_name, ")")


def deploy_command(resource_group: pulumi.Input[str], app_name: str) -> pulumi.Output[str]:
    """OneDeploy of the package built from the repo, with a remote build of its requirements.

    Runs on the deploy runner (which reaches the app's SCM endpoint through the private
    endpoint's `scm` record in privatelink.azurewebsites.net) with its `az login` identity:
    https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#deploy-your-code-project
    """
    return pulumi.Output.concat(
        "set -eu; pkg=$(python -m producers.package out/packages); ",
        "az functionapp deployment source config-zip --resource-group ",
        resource_group,
        f' --name {app_name} --src "$pkg" --build-remote true',
    )
