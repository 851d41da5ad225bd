"""Every policy bites: it reports each non-compliant resource and accepts each compliant one.

The resources go through the offline runner, i.e. the pack's own analyzer
servicer with protobuf requests, so wire names, secrets and unknowns are
handled exactly as in `pulumi preview`.
"""

from __future__ import annotations

import pytest
import zero_trust

from offline.plan import PlannedResource
from tests.policies.cases import CASES, Case
from tests.policies.synthetic import report

BAD = [(c, i, group) for c in CASES for i, group in enumerate(c.bad)]
GOOD = [(c, i, group) for c in CASES for i, group in enumerate(c.good)]


def _id(item: tuple[Case, int, list[PlannedResource]]) -> str:
    c, i, _ = item
    return f"{c.policy}[{c.label[:40]}#{i}]"


@pytest.mark.parametrize("item", BAD, ids=[_id(x) for x in BAD])
def test_non_compliant_is_reported(item: tuple[Case, int, list[PlannedResource]]) -> None:
    case, _, resources = item
    r = report(*resources, config=case.config)
    assert not r.unknowns
    found = r.for_policy(case.policy)
    assert found, f"{case.policy} did not report {[x.inputs for x in resources]}"
    blamed = {case.blame} if case.blame is not None else {x.name for x in resources}
    assert all(v.resource in blamed for v in found), [(v.resource, v.message) for v in found]
    assert all(v.message for v in found)


@pytest.mark.parametrize("item", GOOD, ids=[_id(x) for x in GOOD])
def test_compliant_is_accepted(item: tuple[Case, int, list[PlannedResource]]) -> None:
    case, _, resources = item
    r = report(*resources, config=case.config)
    assert not r.unknowns
    assert not r.for_policy(case.policy), [v.message for v in r.for_policy(case.policy)]


def test_every_policy_has_a_failing_and_a_passing_case() -> None:
    bad = {c.policy for c in CASES if c.bad}
    good = {c.policy for c in CASES if c.good}
    names = set(zero_trust.by_name())
    assert names - bad == set(), "policies without a non-compliant case"
    assert names - good == set(), "policies without a compliant case"
    assert {c.policy for c in CASES} <= names, "cases for policies that do not exist"
