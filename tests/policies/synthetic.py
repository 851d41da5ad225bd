"""Synthetic plans: resources shaped like the engine's wire inputs, for policy cases the stacks do not contain."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from offline import policy_runner
from offline.plan import SECRET_SIG, UNKNOWN, Plan, PlannedResource

STACK, PROJECT = "test", "rta-platform"
TAGS = {"environment": "test", "owner": "team", "costCenter": "cc-1", "dataClassification": "internal"}
LOCATION = "westeurope"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


def res(
    type_: str,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    deps: Mapping[str, Iterable[PlannedResource]] | None = None,
    extra_deps: Iterable[PlannedResource] = (),
    parent: PlannedResource | None = None,
    custom: bool = True,
) -> PlannedResource:
    """A planned resource; `deps` maps an input to the resources whose outputs feed it (property dependencies)."""
    prop_deps = {k: [r.urn for r in v] for k, v in (deps or {}).items()}
    dependencies = sorted({u for v in prop_deps.values() for u in v} | {r.urn for r in extra_deps})
    return PlannedResource(
        urn=urn(type_, name),
        type=type_,
        name=name,
        custom=custom,
        inputs=copy.deepcopy(dict(inputs or {})),
        parent=parent.urn if parent else None,
        dependencies=dependencies,
        property_dependencies=prop_deps,
    )


def plan(*resources: PlannedResource, preview: bool = False) -> Plan:
    return Plan(project=PROJECT, stack=STACK, preview=preview, resources=list(resources), outputs={})


def report(*resources: PlannedResource, config: Any = None, preview: bool = False) -> policy_runner.PolicyReport:
    return policy_runner.evaluate(plan(*resources, preview=preview), config)


def fired(*resources: PlannedResource, config: Any = None, preview: bool = False) -> set[str]:
    """Names of the policies that report anything for these resources (any level)."""
    r = report(*resources, config=config, preview=preview)
    assert not r.unknowns, f"a policy tripped on an unknown value: {r.unknowns}"
    return r.policies_violated()


def unknown_everywhere(value: Any) -> Any:
    """Every leaf replaced by the engine's unknown sentinel (the shape of a first preview at its worst)."""
    if isinstance(value, dict):
        if SECRET_SIG in value:  # an unknown secret is simply unknown on the wire
            return UNKNOWN
        return {k: unknown_everywhere(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown_everywhere(v) for v in value]
    return UNKNOWN
