"""Virtual network flow logs with traffic analytics, into a private storage account.

VNet flow logs, not NSG flow logs: Microsoft retires NSG flow logs on 30 September 2027
and no new ones can be created after 30 June 2025; virtual network flow logs replace
them (https://learn.microsoft.com/azure/network-watcher/nsg-flow-logs-overview,
https://learn.microsoft.com/azure/network-watcher/vnet-flow-logs-overview).

A flow log is a child of the region's Network Watcher, which Azure creates once per
region and subscription in NetworkWatcherRG, so the flow logs are created there. They
write to an account that follows the platform's storage rules (no shared key, private,
firewall on with the trusted-services bypass), as a user-assigned identity holding
Storage Blob Data Contributor on it (New-AzNetworkWatcherFlowLog -UserAssignedIdentityId,
https://learn.microsoft.com/powershell/module/az.network/new-aznetworkwatcherflowlog).
Traffic analytics aggregates them into the platform's Log Analytics workspace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network

from components.base import CustomerManagedKeyArgs, PlatformComponent, RoleAssignmentArgs, ServiceArgs
from components.roles import BuiltInRole
from components.storage_account import StorageAccountSpec, private_storage_account


@dataclass(frozen=True, kw_only=True)
class FlowLogsArgs(ServiceArgs):
    account_name: str
    replication: str
    # VNet key -> VNet resource id.
    target_vnets: Mapping[str, pulumi.Input[str]]
    network_watcher_name: str
    network_watcher_resource_group: str
    identity_id: pulumi.Input[str]
    workspace_resource_id: pulumi.Input[str]
    workspace_customer_id: pulumi.Input[str]
    retention_days: int = 90
    traffic_analytics_interval_minutes: int = 10
    customer_managed_key: CustomerManagedKeyArgs | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class FlowLogs(PlatformComponent):
    """The flow-log account (blob endpoint, soft delete, logs) and one flow log per VNet."""

    def __init__(self, name: str, args: FlowLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("FlowLogs", name, args.common, opts)
        c = args.common
        cmk = args.customer_managed_key
        self.account, _ = private_storage_account(
            f"{name}-st",
            StorageAccountSpec(args.account_name, args.replication, customer_managed_key=cmk),
            c,
            self._opts(),
            blob_service_name=name,
        )
        self.add_storage_account_wiring(name, self.account, args.account_name, args.diagnostics, args.private_endpoints)
        grants = self.add_role_assignments(name, {None: (self.account, self.account.id)}, args.role_assignments)
        self.flow_logs: dict[str, network.FlowLog] = {}
        for key, vnet_id in args.target_vnets.items():
            self.flow_logs[key] = network.FlowLog(
                f"{name}-{key}",
                flow_log_name=f"fl-{args.account_name}-{key}",
                network_watcher_name=args.network_watcher_name,
                resource_group_name=args.network_watcher_resource_group,
                location=c.location,
                target_resource_id=vnet_id,
                storage_id=self.account.id,
                enabled=True,
                format=network.FlowLogFormatParametersArgs(type=network.FlowLogFormatType.JSON, version=2),
                retention_policy=network.RetentionPolicyParametersArgs(enabled=True, days=args.retention_days),
                flow_analytics_configuration=network.TrafficAnalyticsPropertiesArgs(
                    network_watcher_flow_analytics_configuration=network.TrafficAnalyticsConfigurationPropertiesArgs(
                        enabled=True,
                        workspace_id=args.workspace_customer_id,
                        workspace_region=c.location,
                        workspace_resource_id=args.workspace_resource_id,
                        traffic_analytics_interval=args.traffic_analytics_interval_minutes,
                    )
                ),
                identity=network.ManagedServiceIdentityArgs(
                    type=network.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[args.identity_id]
                ),
                tags=dict(self.tags),
                opts=self._opts(depends_on=[self.account, *grants, *args.depends_on]),
            )
        self.register_outputs(
            {"account_id": self.account.id, "flow_log_ids": {k: f.id for k, f in self.flow_logs.items()}}
        )


def writer_role(principal_id: pulumi.Input[str]) -> RoleAssignmentArgs:
    return RoleAssignmentArgs(
        principal_id=principal_id,
        role=BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
        name="flow-log-writer",
        description="Network Watcher writes the VNet flow logs as this identity",
    )
