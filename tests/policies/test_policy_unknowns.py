"""A value that is unknown during preview never crashes a policy, and never silently fails it.

Every resource from the policy cases is fed with all of its inputs unknown,
and with each top-level input unknown in turn: the pack must answer without an
exception and without the SDK's "can't run policy during preview" fallback.
"""

from __future__ import annotations

import copy

import pytest

from offline.plan import UNKNOWN, PlannedResource
from tests.policies.cases import CASES
from tests.policies.synthetic import report, unknown_everywhere

GROUPS = [g for c in CASES for g in c.bad + c.good]
# One input at a time costs an analysis per input, so only the first non-compliant group of each case.
FIRST_BAD = [c.bad[0] for c in CASES if c.bad]


def _with(resource: PlannedResource, inputs: dict) -> PlannedResource:
    clone = copy.deepcopy(resource)
    clone.inputs = inputs
    return clone


@pytest.mark.parametrize("index", range(len(GROUPS)))
def test_everything_unknown(index: int) -> None:
    group = [_with(r, unknown_everywhere(r.inputs)) for r in GROUPS[index]]
    r = report(*group, preview=True)
    assert not r.unknowns, r.unknowns


def _renamed(group: list[PlannedResource], suffix: str) -> list[PlannedResource]:
    """A copy of the group with its own URNs (dependencies remapped), so many variants fit in one plan."""
    mapping = {r.urn: r.urn + suffix for r in group}
    out = []
    for r in group:
        clone = copy.deepcopy(r)
        clone.urn, clone.name = mapping[r.urn], r.name + suffix
        clone.dependencies = [mapping.get(u, u) for u in r.dependencies]
        clone.property_dependencies = {k: [mapping.get(u, u) for u in v] for k, v in r.property_dependencies.items()}
        out.append(clone)
    return out


@pytest.mark.parametrize("index", range(len(FIRST_BAD)))
def test_each_input_unknown(index: int) -> None:
    group = FIRST_BAD[index]
    variants: list[PlannedResource] = []
    for i, resource in enumerate(group):
        for key in resource.inputs:
            copy_ = _renamed(group, f"-{i}-{key}")
            copy_[i].inputs[key] = UNKNOWN
            variants.extend(copy_)
    r = report(*variants, preview=True)
    assert not r.unknowns, r.unknowns


def test_a_computed_reference_counts_as_set() -> None:
    """A subnet whose NSG id comes from the NSG's output is protected, even before the id exists."""
    from tests.policies.synthetic import res

    subnet = res("azure-native:network:Subnet", "s", {"subnetName": "app", "networkSecurityGroup": {"id": UNKNOWN}})
    assert "subnet-has-nsg" not in report(subnet, preview=True).policies_violated()
