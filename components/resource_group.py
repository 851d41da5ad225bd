"""The stack's resource group, with the optional delete lock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, resources

from components.base import TYPE_PREFIX


@dataclass(frozen=True)
class ResourceGroupArgs:
    name: str
    location: str
    tags: Mapping[str, str]
    # CanNotDelete lock: a stray `pulumi destroy` or portal click cannot remove prod data.
    lock: bool = False


class PlatformResourceGroup(pulumi.ComponentResource):
    """One resource group per stack; everything else lives inside it."""

    def __init__(self, name: str, args: ResourceGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}ResourceGroup", name, None, opts)
        self.resource_group = resources.ResourceGroup(
            name,
            resource_group_name=args.name,
            location=args.location,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.lock: authorization.ManagementLockAtResourceGroupLevel | None = None
        if args.lock:
            self.lock = authorization.ManagementLockAtResourceGroupLevel(
                f"{name}-lock",
                lock_name="platform-can-not-delete",
                level=authorization.LockLevel.CAN_NOT_DELETE,
                resource_group_name=self.resource_group.name,
                notes="Managed by rta-platform: remove deliberately before tearing down this environment.",
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.name: pulumi.Output[str] = self.resource_group.name
        self.id: pulumi.Output[str] = self.resource_group.id
        self.register_outputs({"name": self.name, "id": self.id})
