"""Mutation test: on the recorded prod plan, breaking one resource in one policy's way trips exactly that policy.

Violations are compared as (policy, resource, message) against the unmutated
plan, so a policy the stack already trips (an advisory one) does not hide or
blur the result. Where the stack registers no resource a policy judges, the
policy's synthetic compliant and non-compliant groups are added instead.
"""

from __future__ import annotations

import copy
from collections import Counter

import pytest
import zero_trust

from offline import policy_runner
from offline.plan import Plan
from tests.policies.cases import CASES
from tests.policies.mutations import MUTATIONS

PROD_CONFIG = policy_runner.CONFIG_DIR / "prod.json"
NAMES = [p.name for p in zero_trust.ALL_POLICIES]


def _keys(plan: Plan, only: set[str] | None = None, *, with_urn: bool = True) -> Counter[tuple[str, ...]]:
    report = policy_runner.evaluate(plan, PROD_CONFIG, only=only)
    assert not report.unknowns
    return Counter((v.policy, v.urn, v.message) if with_urn else (v.policy, v.message) for v in report.violations)


def _changed(before: Plan, after: Plan) -> set[str]:
    """URNs the mutation added or edited: only these need the per-resource pass again."""
    old = {r.urn: r for r in before.resources}
    return {r.urn for r in after.resources if r.urn not in old or old[r.urn].inputs != r.inputs}


@pytest.fixture(scope="module")
def baseline(prod_plan: Plan) -> Counter[tuple[str, ...]]:
    return _keys(prod_plan)


def _synthetic(policy: str) -> tuple[list, list]:
    case = next(c for c in CASES if c.policy == policy and c.bad and c.good and c.config is None)
    return case.good[0], case.bad[0]


def test_every_policy_has_a_mutation() -> None:
    assert set(MUTATIONS) == set(NAMES)


@pytest.mark.parametrize("policy", NAMES)
def test_mutation_trips_exactly_its_policy(policy: str, prod_plan: Plan, baseline: Counter) -> None:
    mutated = copy.deepcopy(prod_plan)
    if MUTATIONS[policy](mutated):
        new = _keys(mutated, _changed(prod_plan, mutated)) - baseline
    else:
        # The stack has nothing this policy judges: compare the policy's own compliant and non-compliant
        # groups added to the stack (by policy and message, as the two groups name their resources apart).
        good, bad = _synthetic(policy)
        reference = copy.deepcopy(prod_plan)
        reference.resources.extend(copy.deepcopy(good))
        mutated.resources.extend(copy.deepcopy(bad))
        new = _keys(mutated, _changed(prod_plan, mutated), with_urn=False) - _keys(
            reference, _changed(prod_plan, reference), with_urn=False
        )
    assert {key[0] for key in new} == {policy}, sorted(new)
