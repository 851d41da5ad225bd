"""Deployed stacks see no surprise replacement: every recorded URN is still there, or an alias reaches it.

The baselines (tests/baselines/urns-<stack>.json) hold the URNs each stack had
when they were recorded. New resources and changed inputs are fine; a baseline
URN that the plan neither registers nor reaches through an alias would be
deleted (and its replacement created) by the next `pulumi up`. To remove or
replace a resource on purpose, re-record with a reason:
`python tools/record_urn_baseline.py --stack <stack> --reason "..."`.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from offline.engine import REPO_ROOT, run_stack
from offline.plan import Plan, PlannedResource
from offline.urn_identity import (
    AliasResolver,
    baseline_states,
    kept_urns,
    lost_urns,
    read_baseline,
    write_baseline,
)


@pytest.fixture(scope="module")
def plans(dev_plan: Plan, prod_plan: Plan, confluent_plan: Plan, scale_plan: Plan) -> dict[str, Plan]:
    return {"dev": dev_plan, "prod": prod_plan, "confluent": confluent_plan, "scale": scale_plan}


@pytest.mark.parametrize("stack", ["dev", "prod", "confluent", "scale"])
def test_every_baseline_urn_is_kept_or_aliased(plans: dict[str, Plan], stack: str) -> None:
    states = baseline_states(read_baseline(stack))
    # Older states hold only the URNs that state had and the plan reaches by alias (tools/record_urn_baseline.py).
    assert len(states["urns"]) > 100 and all(states.values()), "an empty baseline would check nothing"
    lost = sorted({u for urns in states.values() for u in lost_urns(plans[stack], urns)})
    assert not lost, (
        f"{stack}: `pulumi up` would delete and recreate {len(lost)} resource(s); keep their URNs with aliases, "
        f"or re-record the baseline with a reason (tools/record_urn_baseline.py):\n  " + "\n  ".join(lost)
    )


def test_the_components_moved_under_the_platform_keep_their_identity_through_its_alias(dev_plan: Plan) -> None:
    # The URN now carries the Platform's type (as the real engine makes it); the old one is reached by alias.
    vnet = dev_plan.one("azure-native:network:VirtualNetwork", "network-vnet")
    prefix = "urn:pulumi:dev::rta-platform::"
    assert (
        vnet.urn
        == f"{prefix}rta:platform:Platform$rta:platform:Network$azure-native:network:VirtualNetwork::network-vnet"
    )
    old_network = f"{prefix}rta:platform:Network::network"
    old_vnet = f"{prefix}rta:platform:Network$azure-native:network:VirtualNetwork::network-vnet"
    network = dev_plan.one("rta:platform:Network", "network")
    assert kept_urns(dev_plan, [old_network, old_vnet]) == {old_network: network.urn, old_vnet: vnet.urn}
    # Like the engine, a child inherits only the alias its parent was actually matched by.
    assert kept_urns(dev_plan, [old_vnet]) == {}


def _without_aliases(plan: Plan, component: str) -> Plan:
    resources = [
        dataclasses.replace(r, aliases=[]) if r.name == component and not r.custom else r for r in plan.resources
    ]
    return dataclasses.replace(plan, resources=resources)


def test_a_moved_component_without_its_alias_loses_itself_and_everything_below_it(dev_plan: Plan) -> None:
    baseline = read_baseline("dev")["aliased_urns"]
    lost = lost_urns(_without_aliases(dev_plan, "datalake"), baseline)
    assert lost and all("rta:platform:DataLake" in urn for urn in lost)
    assert "urn:pulumi:dev::rta-platform::rta:platform:DataLake::datalake" in lost
    assert len(lost) == 1 + len([u for u in baseline if u.split("::")[2].startswith("rta:platform:DataLake$")])


def test_a_renamed_resource_is_lost_and_added_resources_are_not_a_problem(dev_plan: Plan) -> None:
    baseline = read_baseline("dev")["aliased_urns"]
    lake = dev_plan.one("azure-native:storage:StorageAccount", "datalake-st")
    renamed = dataclasses.replace(
        lake, urn=lake.urn.replace("datalake-st", "datalake-account"), name="datalake-account"
    )
    added = dataclasses.replace(lake, urn=lake.urn.replace("datalake-st", "datalake-archive"), name="datalake-archive")
    resources = [renamed if r is lake else r for r in dev_plan.resources] + [added]
    lost = lost_urns(dataclasses.replace(dev_plan, resources=resources), baseline)
    assert lost == [
        "urn:pulumi:dev::rta-platform::rta:platform:DataLake$azure-native:storage:StorageAccount::datalake-st"
    ]


def test_the_alias_resolver_follows_the_engine_rules() -> None:
    # step_generator.go: a child inherits the alias its parent was matched by, with the parent's
    # old name substituted for a `{parent}-` name prefix; an explicit parentUrn alias is collapsed first.
    def res(urn: str, parent: str | None = None, aliases: list[dict[str, object]] | None = None) -> PlannedResource:
        parts = urn.split("::")
        return PlannedResource(
            urn=urn,
            type=parts[2].split("$")[-1],
            name=parts[3],
            custom=True,
            inputs={},
            parent=parent,
            aliases=aliases or [],
        )

    old_parent = "urn:pulumi:s::p::t:m:Old::app"
    old_child = "urn:pulumi:s::p::t:m:Old$t:m:Child::app-fn"
    olds = frozenset({old_parent, old_child})
    resolver = AliasResolver("s", "p", olds)
    parent = res(
        "urn:pulumi:s::p::t:m:Root$t:m:Old::newapp",
        "urn:pulumi:s::p::t:m:Root::root",
        [{"name": "app", "noParent": True}],
    )
    child = res("urn:pulumi:s::p::t:m:Root$t:m:Old$t:m:Child::newapp-fn", parent.urn)
    assert resolver.old_urn(parent) == old_parent
    assert resolver.old_urn(child) == old_child
    orphan = res("urn:pulumi:s::p::t:m:Root$t:m:Child::app-fn", "urn:pulumi:s::p::t:m:Root::root")
    assert AliasResolver("s", "p", olds).old_urn(orphan) is None


def test_one_program_can_stand_up_a_second_platform_beside_the_first(tmp_path: Path) -> None:
    # The second platform, prefixed, gets URNs of its own (no duplicate) and no alias to the first's old URNs.
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
            f"""
            from layers.platform import Platform, PlatformArgs
            from stack_config import load_stack_config

            config = load_stack_config()
            Platform("platform", PlatformArgs(config=config, source_root={str(REPO_ROOT)!r}))
            second = config.model_copy(update={{"name_prefix": "rtb"}})
            Platform("second", PlatformArgs(config=second, source_root={str(REPO_ROOT)!r}, prefix="b-"))
            """
        )
    )
    plan = run_stack("dev", preview=True, root=tmp_path)
    urns = [r.urn for r in plan.resources]
    assert len(urns) == len(set(urns))
    second = [r for r in plan.resources if r.name.startswith("b-")]
    first = [r for r in plan.resources if not r.name.startswith("b-") and r.type != "rta:platform:Platform"]
    assert len(second) == len(first) > 100
    assert all(not r.aliases or r.custom for r in second)


def test_a_written_baseline_keeps_each_older_state_apart_oldest_first(tmp_path: Path) -> None:
    # Iterators as well as lists: each state is read once; an empty one is not written.
    older = [iter(["urn:a1", "urn:a2"]), iter([]), (u for u in ["urn:b1"])]
    write_baseline("s", ["urn:now"], [], aliased_states=older, directory=tmp_path)
    states = baseline_states(read_baseline("s", tmp_path))
    assert states == {"urns": ["urn:now"], "aliased_urns": ["urn:a1", "urn:a2"], "aliased_urns_2": ["urn:b1"]}
