"""Defer the Python SDK's eager alias-URN computation, for the offline engine.

Every azure-native resource carries ~25 version aliases, and `Resource.__init__`
turns each into an alias URN (an Output chain) up front. Those URNs are read
in exactly one place, `pulumi.runtime.resource.all_aliases`, which only runs
when the engine does *not* support alias specs. The mock monitor -- like every
current `pulumi` CLI -- does, so the URNs are computed and never used; under
the mock engine that was three quarters of the registration time.

`install()` makes `Resource.__init__` store a cheap pending record instead and
makes `all_aliases` materialize it with the SDK's own function first, so the
engine-without-alias-specs path still gets exactly what it got before.
"""

from __future__ import annotations

from typing import Any

import pulumi.resource as sdk_resource
import pulumi.runtime.resource as sdk_runtime_resource

_eager_collapse = sdk_runtime_resource.collapse_alias_to_urn
_eager_all_aliases = sdk_runtime_resource.all_aliases


class PendingAliasUrn:
    """The arguments of a `collapse_alias_to_urn` call not made yet."""

    __slots__ = ("args",)

    def __init__(self, *args: Any) -> None:
        self.args = args

    def materialize(self) -> Any:
        return _eager_collapse(*self.args)


def _deferred_collapse(alias: Any, name: str, type_: str, parent: Any) -> PendingAliasUrn:
    return PendingAliasUrn(alias, name, type_, parent)


def _all_aliases(child_aliases: Any, child_name: str, child_type: str, parent: Any) -> Any:
    if parent is not None and any(isinstance(a, PendingAliasUrn) for a in parent._aliases):
        parent._aliases = [a.materialize() if isinstance(a, PendingAliasUrn) else a for a in parent._aliases]
    return _eager_all_aliases(child_aliases, child_name, child_type, parent)


def install() -> None:
    """Idempotent; affects only this process."""
    sdk_resource.collapse_alias_to_urn = _deferred_collapse  # type: ignore[assignment]
    sdk_runtime_resource.all_aliases = _all_aliases


def uninstall() -> None:
    sdk_resource.collapse_alias_to_urn = _eager_collapse
    sdk_runtime_resource.all_aliases = _eager_all_aliases
