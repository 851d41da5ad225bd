"""Where a layer's components go in the resource tree, so that deployed stacks keep every URN."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class Placement:
    """The parent and logical-name prefix of every top-level component a layer creates.

    Before the `Platform` component existed, each component sat directly under
    the stack. Parenting it under the Platform changes its URN and, because a
    URN carries its parents' types, the URN of every resource below it. The
    alias to the old, parent-less URN keeps their identity: the engine matches
    the component's old state through it, and each child inherits the alias its
    parent was matched by (pulumi/pulumi pkg/resource/deploy/step_generator.go,
    `generateAliases` and `inheritedChildAlias`). A component new since then has
    no old URN, so the alias matches nothing and costs nothing.

    `prefix` keeps a second platform in the same program apart: child names
    follow the `{component}-...` convention, so a prefixed component's resources
    all get distinct URNs. Only the unprefixed platform ever ran without a
    parent, so only it is aliased.
    """

    parent: pulumi.Resource
    prefix: str = ""

    def name(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def opts(self) -> pulumi.ResourceOptions:
        aliases = None if self.prefix else [pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]
        return pulumi.ResourceOptions(parent=self.parent, aliases=aliases)
