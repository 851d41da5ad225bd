"""The offline engine's speed-ups change nothing in the recorded plan."""

from __future__ import annotations

import json

import pulumi.runtime.resource as sdk_runtime_resource

from offline import alias_urns
from offline.engine import run_stack
from offline.plan import Plan


def _fingerprint(plan: Plan) -> list[str]:
    return sorted(
        json.dumps([r.type, r.name, r.inputs, r.parent, sorted(r.dependencies), r.options], sort_keys=True)
        for r in plan.resources
    )


def test_deferred_alias_urns_record_the_same_plan(prod_plan: Plan) -> None:
    alias_urns.uninstall()
    try:
        eager = run_stack("prod", preview=False)
    finally:
        alias_urns.install()
    assert _fingerprint(eager) == _fingerprint(prod_plan)
    assert eager.outputs == prod_plan.outputs
    assert all(r.options["aliases"] > 0 for r in prod_plan.of_type("azure-native:storage:StorageAccount"))


def test_the_alias_path_without_alias_specs_still_gets_every_urn(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # all_aliases is the one reader of a parent's alias URNs: it must see them materialized,
    # by the SDK's own function, before the SDK's own all_aliases runs.
    made: list[tuple[object, ...]] = []
    monkeypatch.setattr(alias_urns, "_eager_collapse", lambda *args: made.append(args) or f"urn-{args[1]}")
    seen: list[list[object]] = []
    monkeypatch.setattr(alias_urns, "_eager_all_aliases", lambda _c, _n, _t, parent: seen.append(list(parent._aliases)))

    class FakeParent:
        _name = "p"
        _aliases: list[object] = [alias_urns.PendingAliasUrn("old-alias", "p", "test:index:Parent", None), "urn:x"]

    parent = FakeParent()
    sdk_runtime_resource.all_aliases([], "child", "test:index:Child", parent)
    assert made == [("old-alias", "p", "test:index:Parent", None)]
    assert seen == [["urn-p", "urn:x"]]
