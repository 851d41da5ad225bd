"""Azure Monitor Private Link Scope: the Log Analytics workspace reached only privately.

The scope holds the workspace; its private endpoint (group "azuremonitor") registers in
the five zones Azure Monitor uses (https://learn.microsoft.com/azure/azure-monitor/logs/private-link-configure).
Access modes (https://learn.microsoft.com/azure/azure-monitor/logs/private-link-design#control-how-private-links-apply-to-your-networks):
PrivateOnly lets networks connected to the scope reach only the scope's resources, so
ingestion is always PrivateOnly and query is PrivateOnly unless the stack allows public
query (dev). Diagnostic settings keep working: they travel the Azure backbone, not the VNet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

from components.base import CommonArgs, PlatformComponent, PrivateEndpointArgs

# Zone key -> zone name; the endpoint registers in all of them (blob is shared with storage endpoints).
MONITOR_DNS_ZONES: dict[str, str] = {
    "monitor": "privatelink.monitor.azure.com",
    "oms": "privatelink.oms.opinsights.azure.com",
    "ods": "privatelink.ods.opinsights.azure.com",
    "agentsvc": "privatelink.agentsvc.azure-automation.net",
}
MONITOR_GROUP_ID = "azuremonitor"


@dataclass(frozen=True)
class PrivateMonitoringArgs:
    common: CommonArgs
    scope_name: str
    workspace_id: pulumi.Input[str]
    workspace: pulumi.Resource
    subnet_id: pulumi.Input[str]
    # Zone ids by key: the four MONITOR_DNS_ZONES keys plus "blob".
    dns_zone_ids: Mapping[str, pulumi.Input[str]]
    endpoint_name: str
    private_query: bool = True


class PrivateMonitoring(PlatformComponent):
    """The private link scope, its link to the workspace, and its private endpoint."""

    def __init__(self, name: str, args: PrivateMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("PrivateMonitoring", name, args.common, opts)
        c = args.common
        mode = monitor.AccessMode
        self.scope = monitor.PrivateLinkScope(
            f"{name}-ampls",
            scope_name=args.scope_name,
            resource_group_name=c.resource_group_name,
            location="global",
            access_mode_settings=monitor.AccessModeSettingsArgs(
                ingestion_access_mode=mode.PRIVATE_ONLY,
                query_access_mode=mode.PRIVATE_ONLY if args.private_query else mode.OPEN,
            ),
            tags=dict(self.tags),
            opts=self._opts(),
        )
        monitor.PrivateLinkScopedResource(
            f"{name}-ampls-workspace",
            name="log-analytics",
            scope_name=self.scope.name,
            resource_group_name=c.resource_group_name,
            linked_resource_id=args.workspace_id,
            opts=self._opts(depends_on=[self.scope, args.workspace]),
        )
        zones = dict(args.dns_zone_ids)
        first = next(iter(MONITOR_DNS_ZONES))
        endpoint = PrivateEndpointArgs(
            subnet_id=args.subnet_id,
            private_dns_zone_id=zones[first],
            group_id=MONITOR_GROUP_ID,
            additional_dns_zones=tuple((k, zones[k]) for k in (*list(MONITOR_DNS_ZONES)[1:], "blob")),
        )
        self.add_private_endpoints(name, self.scope, self.scope.id, [endpoint], _named(args.endpoint_name))
        self.register_outputs({"scope_id": self.scope.id})


def _named(endpoint_name: str) -> Callable[[PrivateEndpointArgs], str]:
    return lambda _: endpoint_name
