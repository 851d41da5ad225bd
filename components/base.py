"""The cross-cutting interface every platform component shares.

Modelled on Azure Verified Modules: each component takes the same small set of
inputs -- tags, diagnostic settings, private endpoints, role assignments and a
customer-managed key -- and wires them with the helpers below, so a reader who
knows one component knows them all and no component re-implements them.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, monitor, network

from components.roles import BuiltInRole

TYPE_PREFIX = "rta:platform:"
# Stable namespace for deterministic role-assignment names (they must be GUIDs).
_ASSIGNMENT_NAMESPACE = uuid.UUID("6c1f8c1e-3f57-4a8e-9a38-4f0d6c2b7e10")

# The last private endpoint registered in each subnet, per program run (a ContextVar: each run of the
# program, and each offline engine run, starts empty). Keyed by the subnet id Output's identity, which is
# one object per subnet (`Network.subnet_id` returns the subnet resource's `id`); the Output is kept in the
# value so its id cannot be reused while the run lives.
_SUBNET_QUEUES: contextvars.ContextVar[dict[int, tuple[object, pulumi.Resource]] | None] = contextvars.ContextVar(
    "rta_subnet_endpoint_queues", default=None
)


def endpoints_before(subnet_id: pulumi.Input[str]) -> list[pulumi.Resource]:
    """The private endpoint the next one in `subnet_id` must wait for: one at a time per subnet, stack-wide.

    Concurrent private endpoint operations in one subnet conflict (Azure/azure-rest-api-specs#20289); the
    azurerm provider serialises them with a per-subnet lock (hashicorp/terraform-provider-azurerm#16315),
    azure-native has no such lock. So every component's endpoints in a subnet form one chain, in the order
    the program registers them.
    """
    queues = _SUBNET_QUEUES.get()
    last = queues.get(id(subnet_id)) if queues is not None else None
    return [last[1]] if last is not None else []


def queue_endpoint(subnet_id: pulumi.Input[str], endpoint: pulumi.Resource) -> None:
    """Record `endpoint` as the last one in its subnet (see `endpoints_before`)."""
    queues = _SUBNET_QUEUES.get()
    if queues is None:
        queues = {}
        _SUBNET_QUEUES.set(queues)
    queues[id(subnet_id)] = (subnet_id, endpoint)


@dataclass(frozen=True)
class DiagnosticsArgs:
    """Where resource logs go. Every component that owns a diagnosable resource takes one."""

    workspace_id: pulumi.Input[str]
    # "allLogs" covers audit too; metrics are sent where the resource has them.
    category_groups: Sequence[str] = ("allLogs",)
    metrics: bool = True
    # Individual log categories, for targets that have no category groups (e.g. a SQL database's audit).
    categories: Sequence[str] = ()


@dataclass(frozen=True)
class PrivateEndpointArgs:
    """A private endpoint for one sub-resource (group id) of a service, with its DNS zone."""

    subnet_id: pulumi.Input[str]
    private_dns_zone_id: pulumi.Input[str]
    group_id: str  # e.g. "vault", "blob", "dfs", "namespace", "sqlServer", "databricks_ui_api"
    # Further zones the endpoint registers in, by config name (Azure Monitor's "azuremonitor" needs five).
    additional_dns_zones: Sequence[tuple[str, pulumi.Input[str]]] = ()


@dataclass(frozen=True)
class RoleAssignmentArgs:
    """One role for one principal on the component's resource (or a named child of it)."""

    principal_id: pulumi.Input[str]
    role: BuiltInRole
    # Logical name used for the deterministic assignment GUID and the Pulumi name.
    name: str
    principal_type: authorization.PrincipalType = authorization.PrincipalType.SERVICE_PRINCIPAL
    # Key of a child scope the component exposes (e.g. an event hub's name); None = the resource itself.
    sub_scope: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class CustomerManagedKeyArgs:
    """A Key Vault key and the user-assigned identity the service unwraps it with."""

    key_vault_uri: pulumi.Input[str]
    key_name: pulumi.Input[str]
    key_uri: pulumi.Input[str]  # versionless, so rotation is picked up automatically
    identity_id: pulumi.Input[str]  # resource id of the user-assigned identity
    identity_client_id: pulumi.Input[str]
    identity_principal_id: pulumi.Input[str]
    # Resources (the identity's crypto role assignment) the service must wait for.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # The current key version's URI, for services that pin a version (Azure SQL's server key
    # is named vault_key_version and follows rotation with autoRotationEnabled).
    key_uri_with_version: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class CommonArgs:
    """Inputs every component takes."""

    resource_group_name: pulumi.Input[str]
    location: str
    tags: Mapping[str, str]
    subscription_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class ServiceArgs:
    """The cross-cutting inputs every data-service component takes, by the same names.

    A service is reachable only through its private endpoints, so there is no
    default for them: forgetting them is an error, not a public service.
    """

    common: CommonArgs
    diagnostics: DiagnosticsArgs
    private_endpoints: Sequence[PrivateEndpointArgs]
    role_assignments: Sequence[RoleAssignmentArgs] = ()


class PlatformComponent(pulumi.ComponentResource):
    """Base class: type token in the platform namespace plus the shared wiring helpers."""

    def __init__(self, kind: str, name: str, common: CommonArgs, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(f"{TYPE_PREFIX}{kind}", name, None, opts)
        self._common = common
        self._child_opts = pulumi.ResourceOptions(parent=self)

    def _opts(self, *, depends_on: Sequence[pulumi.Resource] = (), **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on), **kwargs)  # type: ignore[arg-type]

    @property
    def tags(self) -> Mapping[str, str]:
        return self._common.tags

    def add_diagnostics(
        self,
        logical_name: str,
        target: pulumi.Resource,
        target_id: pulumi.Input[str],
        diagnostics: DiagnosticsArgs,
        *,
        logs: bool = True,
        metrics: bool | None = None,
    ) -> monitor.DiagnosticSetting:
        """Send the target's resource logs (and metrics) to the platform workspace."""
        send_metrics = diagnostics.metrics if metrics is None else metrics
        return monitor.DiagnosticSetting(
            f"{logical_name}-diag",
            name="to-platform-workspace",
            resource_uri=target_id,
            workspace_id=diagnostics.workspace_id,
            log_analytics_destination_type="Dedicated",
            logs=[
                *(
                    monitor.DiagnosticsLogSettingsArgs(category_group=g, enabled=True)
                    for g in diagnostics.category_groups
                ),
                *(monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in diagnostics.categories),
            ]
            if logs
            else None,
            metrics=[monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)]
            if send_metrics
            else None,
            opts=self._opts(depends_on=[target]),
        )

    def add_private_endpoint(
        self,
        logical_name: str,
        target: pulumi.Resource,
        target_id: pulumi.Input[str],
        endpoint: PrivateEndpointArgs,
        endpoint_name: str,
    ) -> tuple[network.PrivateEndpoint, network.PrivateDnsZoneGroup]:
        """A private endpoint to one sub-resource, registered in its private DNS zone."""
        pe = network.PrivateEndpoint(
            f"{logical_name}-pe-{endpoint.group_id}",
            private_endpoint_name=endpoint_name,
            resource_group_name=self._common.resource_group_name,
            location=self._common.location,
            subnet=network.SubnetArgs(id=endpoint.subnet_id),
            custom_network_interface_name=f"{endpoint_name}-nic",
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=f"{endpoint_name}-conn",
                    private_link_service_id=target_id,
                    group_ids=[endpoint.group_id],
                )
            ],
            tags=dict(self.tags),
            opts=self._opts(depends_on=[target, *endpoints_before(endpoint.subnet_id)]),
        )
        queue_endpoint(endpoint.subnet_id, pe)
        zone_group = network.PrivateDnsZoneGroup(
            f"{logical_name}-pe-{endpoint.group_id}-dns",
            name="default",
            private_dns_zone_group_name="default",
            private_endpoint_name=pe.name,
            resource_group_name=self._common.resource_group_name,
            private_dns_zone_configs=[
                network.PrivateDnsZoneConfigArgs(
                    name=endpoint.group_id, private_dns_zone_id=endpoint.private_dns_zone_id
                ),
                *(
                    network.PrivateDnsZoneConfigArgs(name=config_name, private_dns_zone_id=zone_id)
                    for config_name, zone_id in endpoint.additional_dns_zones
                ),
            ],
            opts=self._opts(depends_on=[pe]),
        )
        return pe, zone_group

    def add_private_endpoints(
        self,
        logical_name: str,
        target: pulumi.Resource,
        target_id: pulumi.Input[str],
        endpoints: Sequence[PrivateEndpointArgs],
        endpoint_name: Callable[[PrivateEndpointArgs], str],
    ) -> list[tuple[network.PrivateEndpoint, network.PrivateDnsZoneGroup]]:
        """One endpoint (with its DNS zone group) per sub-resource; at least one is required."""
        if not endpoints:
            raise ValueError(f"{logical_name}: a private service needs at least one private endpoint")
        return [
            self.add_private_endpoint(logical_name, target, target_id, endpoint, endpoint_name(endpoint))
            for endpoint in endpoints
        ]

    def add_storage_account_wiring(
        self,
        logical_name: str,
        account: pulumi.CustomResource,
        account_name: str,
        diagnostics: DiagnosticsArgs,
        endpoints: Sequence[PrivateEndpointArgs],
    ) -> None:
        """A storage account's diagnostics and private endpoints (`pe-<account name>-<group id>`).

        The account itself has metrics only; its logs are per service, so the blob service
        (`<account id>/blobServices/default`) gets the log setting.
        """
        self.add_diagnostics(logical_name, account, account.id, diagnostics, logs=False, metrics=True)
        self.add_diagnostics(
            f"{logical_name}-blob",
            account,
            account.id.apply(lambda account_id: f"{account_id}/blobServices/default"),
            diagnostics,
        )
        self.add_private_endpoints(
            logical_name, account, account.id, endpoints, lambda e: f"pe-{account_name}-{e.group_id}"
        )

    def add_role_assignments(
        self,
        logical_name: str,
        scopes: Mapping[str | None, tuple[pulumi.Resource, pulumi.Input[str]]],
        assignments: Sequence[RoleAssignmentArgs],
    ) -> list[authorization.RoleAssignment]:
        """Grant built-in roles at the narrowest scope the component exposes.

        `scopes` maps a sub-scope key (None for the component's main resource) to
        the resource and its id; an unknown key is a programming error, not a
        silent widening to the parent scope.
        """
        created = []
        for assignment in assignments:
            if assignment.sub_scope not in scopes:
                raise ValueError(
                    f"{logical_name}: role assignment {assignment.name!r} names unknown scope "
                    f"{assignment.sub_scope!r}; known: {sorted(str(k) for k in scopes)}"
                )
            scope_resource, scope_id = scopes[assignment.sub_scope]
            guid = uuid.uuid5(
                _ASSIGNMENT_NAMESPACE,
                f"{pulumi.get_project()}/{pulumi.get_stack()}/{logical_name}/{assignment.name}/{assignment.role.name}",
            )
            created.append(
                authorization.RoleAssignment(
                    f"{logical_name}-ra-{assignment.name}",
                    role_assignment_name=str(guid),
                    scope=scope_id,
                    principal_id=assignment.principal_id,
                    principal_type=assignment.principal_type,
                    role_definition_id=assignment.role.definition_id(self._common.subscription_id),
                    description=assignment.description or f"{assignment.role.display_name} for {assignment.name}",
                    opts=self._opts(depends_on=[scope_resource]),
                )
            )
        return created


class ProviderScopedComponent(PlatformComponent):
    """A component whose children all go through one explicit provider (the workspace's Databricks provider).

    `_db_opts` is the only way its children get options, so none can fall back to
    an ambient default provider pointing somewhere else.
    """

    def __init__(
        self,
        kind: str,
        name: str,
        common: CommonArgs,
        provider: pulumi.ProviderResource,
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        super().__init__(kind, name, common, opts)
        self._provider = provider

    def _db_opts(
        self, depends_on: Sequence[pulumi.Resource] = (), *, ignore_changes: list[str] | None = None
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, provider=self._provider, depends_on=list(depends_on), ignore_changes=ignore_changes
        )

    def grant_groups(
        self,
        logical_name: str,
        target: pulumi.Resource,
        groups: Sequence[str],
        permission_level: str,
        **object_id: pulumi.Input[str],
    ) -> pulumi.CustomResource | None:
        """One Databricks permissions resource giving `groups` one level on `target` (named by `object_id`,
        e.g. `dashboard_id=...`); none when there are no groups."""
        if not groups:
            return None
        import pulumi_databricks as dbx  # only the Databricks components load the SDK

        return dbx.Permissions(
            logical_name,
            access_controls=[
                dbx.PermissionsAccessControlArgs(group_name=g, permission_level=permission_level) for g in groups
            ],
            opts=self._db_opts([target]),
            **object_id,  # type: ignore[arg-type]
        )
