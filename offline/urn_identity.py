"""Which deployed resources a plan keeps: URNs against a recorded baseline, aliases as the engine reads them.

An existing stack sees a replacement (a delete of the old URN and a create of a
new one) whenever a resource's URN changes and no alias leads back to the old
one. The baseline (`tests/baselines/urns-<stack>.json`) is the set of URNs a
deployed stack holds; `lost_urns` says which of them a new plan would delete.

The alias matching mirrors the engine's step generator (pulumi/pulumi,
pkg/resource/deploy/step_generator.go: `generateAliases`, `collapseAliasToUrn`,
`inheritedChildAlias`, `getOldResource`): a resource keeps its old state if its
URN, or one of its aliases, names an old URN; a child inherits the alias its
parent was actually matched by. Resources are visited in registration order,
as the engine does, so a parent's match is known before its children's.
An aliased provider is not a provider change (`diffProvider`, same file), so
resources under a moved provider keep their state too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline.plan import Plan, PlannedResource

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
BASELINE_DIR = Path(__file__).resolve().parent.parent / "tests" / "baselines"


def urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, qualified type, name) of `urn:pulumi:<stack>::<project>::<type chain>::<name>`."""
    head, project, qualified_type, name = urn.split("::", 3)
    return head.removeprefix("urn:pulumi:"), project, qualified_type, name


def make_urn(stack: str, project: str, parent_type: str, type_: str, name: str) -> str:
    """sdk/go/common/resource/urn/urn.go `New`: the parent's whole type chain, the root stack left out."""
    chain = f"{parent_type}${type_}" if parent_type and parent_type != ROOT_STACK_TYPE else type_
    return f"urn:pulumi:{stack}::{project}::{chain}::{name}"


@dataclass
class AliasResolver:
    """The engine's alias matching for one deployment against the old URNs `olds`."""

    stack: str
    project: str
    olds: frozenset[str]

    def __post_init__(self) -> None:
        # New URN -> the old URN it was matched by (step_generator's sg.aliases).
        self.matched: dict[str, str] = {}

    def _parent_type(self, parent: str | None) -> str:
        return urn_parts(parent)[2] if parent else ""

    def collapse(self, name: str, type_: str, parent: str | None, alias: Mapping[str, Any]) -> str:
        if alias.get("urn"):
            return str(alias["urn"])
        alias_parent: str | None = alias.get("parentUrn") or parent
        if alias.get("parentUrn") and alias_parent in self.matched:
            alias_parent = self.matched[alias_parent]
        if alias.get("noParent") or (alias_parent and urn_parts(alias_parent)[2] == ROOT_STACK_TYPE):
            alias_parent = None
        return make_urn(
            alias.get("stack") or self.stack,
            alias.get("project") or self.project,
            self._parent_type(alias_parent),
            alias.get("type") or type_,
            alias.get("name") or name,
        )

    def inherited(self, type_: str, name: str, parent_name: str, parent_alias: str) -> str:
        alias_name = urn_parts(parent_alias)[3] + name[len(parent_name) :] if name.startswith(parent_name) else name
        return make_urn(self.stack, self.project, urn_parts(parent_alias)[2], type_, alias_name)

    def aliases(self, resource: PlannedResource) -> list[str]:
        """Every alias URN the engine derives for `resource`, in its order, without duplicates."""
        found: dict[str, None] = {}
        for alias in resource.aliases:
            found[self.collapse(resource.name, resource.type, resource.parent, alias)] = None
        parent = resource.parent
        if parent and parent in self.matched:
            parent_alias, parent_name = self.matched[parent], urn_parts(parent)[3]
            found[self.inherited(resource.type, resource.name, parent_name, parent_alias)] = None
            for alias in resource.aliases:
                collapsed = self.collapse(resource.name, resource.type, parent, alias)
                _, _, chain, alias_name = urn_parts(collapsed)
                found[self.inherited(chain.split("$")[-1], alias_name, parent_name, parent_alias)] = None
        return list(found)

    def old_urn(self, resource: PlannedResource) -> str | None:
        """The old URN whose state this resource takes over (its own first, then its aliases)."""
        if resource.urn in self.olds:
            return resource.urn
        for alias in self.aliases(resource):
            if alias in self.olds:
                self.matched[resource.urn] = alias
                return alias
        return None


def kept_urns(plan: Plan, olds: Iterable[str]) -> dict[str, str]:
    """Old URN -> the new resource that takes it over, for every old URN the plan keeps."""
    resolver = AliasResolver(plan.stack, plan.project, frozenset(olds))
    kept: dict[str, str] = {}
    for resource in plan.resources:
        old = resolver.old_urn(resource)
        if old is not None:
            kept.setdefault(old, resource.urn)
    return kept


def lost_urns(plan: Plan, olds: Iterable[str]) -> list[str]:
    """The old URNs the plan would delete: neither registered again nor reached by an alias."""
    olds = list(olds)
    kept = kept_urns(plan, olds)
    return sorted(u for u in olds if u not in kept)


# ----------------------------------------------------------------------------- the recorded baseline


def baseline_path(stack: str, directory: Path = BASELINE_DIR) -> Path:
    return directory / f"urns-{stack}.json"


def read_baseline(stack: str, directory: Path = BASELINE_DIR) -> dict[str, Any]:
    return dict(json.loads(baseline_path(stack, directory).read_text()))


def baseline_states(baseline: Mapping[str, Any]) -> dict[str, list[str]]:
    """The deployed states a baseline stands for: the current URNs, and older ones still reached by aliases.

    Each is checked on its own: a stack holds one of them, never two. Older states are `aliased_urns`
    (the oldest), then `aliased_urns_2`, `aliased_urns_3`, ...: a resource moved twice has one old URN
    in each, and the engine matches it by one alias only, so the two must not be checked as one state.
    """
    states = {"urns": list(baseline["urns"])}
    for key in aliased_state_keys(baseline):
        states[key] = list(baseline[key])
    return states


def aliased_state_keys(baseline: Mapping[str, Any]) -> list[str]:
    """The keys of the older states, oldest first."""
    keys = [k for k in baseline if k == "aliased_urns" or re.fullmatch(r"aliased_urns_\d+", k)]
    return sorted(keys, key=lambda k: 1 if k == "aliased_urns" else int(k.rsplit("_", 1)[1]))


def write_baseline(
    stack: str,
    urns: Iterable[str],
    history: list[dict[str, str]],
    aliased_states: Sequence[Iterable[str]] = (),
    directory: Path = BASELINE_DIR,
) -> Path:
    """One URN per line, sorted, so a deliberate change reads as a small diff in review."""
    path = baseline_path(stack, directory)
    path.parent.mkdir(parents=True, exist_ok=True)

    def block(values: Iterable[str]) -> str:
        return ",\n".join(f"    {json.dumps(u)}" for u in sorted(set(values)))

    history_json = ",\n".join(f"    {json.dumps(h, sort_keys=True)}" for h in history)
    text = f'{{\n  "stack": {json.dumps(stack)},\n  "history": [\n{history_json}\n  ],\n'
    # Each state listed once (an iterator would be empty on a second pass); empty states are not written.
    for n, state in enumerate([s for s in (list(a) for a in aliased_states) if s], start=1):
        key = "aliased_urns" if n == 1 else f"aliased_urns_{n}"
        text += f'  "{key}": [\n{block(state)}\n  ],\n'
    path.write_text(text + f'  "urns": [\n{block(urns)}\n  ]\n}}\n')
    return path
