"""Log Analytics: where every component's diagnostic settings send their logs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import operationalinsights as oi

from components.base import CommonArgs, DiagnosticsArgs, PlatformComponent


@dataclass(frozen=True)
class MonitoringArgs:
    common: CommonArgs
    workspace_name: str
    retention_days: int
    daily_quota_gb: float | None = None
    # Named insecure convenience; ingestion is never public (diagnostic settings use the Azure backbone).
    allow_public_query: bool = False


class Monitoring(PlatformComponent):
    """The platform Log Analytics workspace and the DiagnosticsArgs other components take."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Monitoring", name, args.common, opts)
        disabled, enabled = oi.PublicNetworkAccessType.DISABLED, oi.PublicNetworkAccessType.ENABLED
        self.workspace = oi.Workspace(
            f"{name}-law",
            workspace_name=args.workspace_name,
            resource_group_name=args.common.resource_group_name,
            location=args.common.location,
            sku=oi.WorkspaceSkuArgs(name=oi.WorkspaceSkuNameEnum.PER_GB2018),
            retention_in_days=args.retention_days,
            workspace_capping=oi.WorkspaceCappingArgs(daily_quota_gb=args.daily_quota_gb)
            if args.daily_quota_gb
            else None,
            features=oi.WorkspaceFeaturesArgs(
                disable_local_auth=True,
                enable_log_access_using_only_resource_permissions=True,
            ),
            public_network_access_for_ingestion=disabled,
            public_network_access_for_query=enabled if args.allow_public_query else disabled,
            tags=dict(self.tags),
            opts=self._opts(),
        )
        self.workspace_id: pulumi.Output[str] = self.workspace.id
        self.diagnostics = DiagnosticsArgs(workspace_id=self.workspace.id)
        # The workspace audits its own queries.
        self.add_diagnostics(
            f"{name}-law",
            self.workspace,
            self.workspace.id,
            DiagnosticsArgs(workspace_id=self.workspace.id, category_groups=("audit",)),
        )
        self.register_outputs({"workspace_id": self.workspace_id, "workspace_name": self.workspace.name})
