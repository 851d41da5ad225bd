"""User-assigned managed identities: one per workload, so each holds only its own roles.

Roles are granted by the component that owns the scope (a hub, the lake, a key),
so this component only creates identities and hands out their ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from components.base import CommonArgs, PlatformComponent


@dataclass(frozen=True)
class IdentitySpec:
    key: str  # "producer", "processor", "eventhubs", "lake-cmk", ...
    name: str
    purpose: str


@dataclass(frozen=True)
class IdentitiesArgs:
    common: CommonArgs
    identities: Sequence[IdentitySpec]


class Identities(PlatformComponent):
    """`identities[<key>]` is a UserAssignedIdentity with `id`, `principal_id`, `client_id`."""

    def __init__(self, name: str, args: IdentitiesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Identities", name, args.common, opts)
        keys = [spec.key for spec in args.identities]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{name}: duplicate identity keys {keys}")
        self.identities: dict[str, managedidentity.UserAssignedIdentity] = {}
        for spec in args.identities:
            self.identities[spec.key] = managedidentity.UserAssignedIdentity(
                f"{name}-{spec.key}",
                resource_name_=spec.name,
                resource_group_name=args.common.resource_group_name,
                location=args.common.location,
                tags={**self.tags, "purpose": spec.purpose},
                opts=self._opts(),
            )
        self.register_outputs(
            {
                "principal_ids": {k: v.principal_id for k, v in self.identities.items()},
                "client_ids": {k: v.client_id for k, v in self.identities.items()},
            }
        )

    def __getitem__(self, key: str) -> managedidentity.UserAssignedIdentity:
        return self.identities[key]
