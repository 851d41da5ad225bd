"""Broken stack configs are rejected whole, by key, before anything is registered."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from offline import preview
from offline.engine import StackProgramError, run_stack, stack_config_values
from stack_config import ConfigError

NS = "rta-platform"


def _dev(key: str) -> Any:
    values, _ = stack_config_values("dev")
    raw = values[f"{NS}:{key}"]
    return json.loads(raw) if raw[:1] in "{[" else raw


def _with(key: str, **changes: Any) -> dict[str, Any]:
    section = _dev(key)
    section.update(changes)
    return {f"{NS}:{key}": section}


def _event_hubs_hub(**changes: Any) -> dict[str, Any]:
    section = _dev("eventHubs")
    section["hubs"][0].update(changes)
    return {f"{NS}:eventHubs": section}


def _network_subnet(**changes: Any) -> dict[str, Any]:
    section = _dev("network")
    section["subnets"].update(changes)
    return {f"{NS}:network": section}


BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("unknown environment", {f"{NS}:environment": "staging"}, f"{NS}:environment"),
    ("missing environment", {f"{NS}:environment": None}, f"{NS}:environment is required"),
    ("typo in a top-level key", {f"{NS}:netwrok": {"addressSpace": "10.0.0.0/16"}}, f"{NS}:netwrok is not a known"),
    ("typo in a nested key", _with("monitoring", retentionDayz=30), f"{NS}:monitoring.retentionDayz"),
    ("retention below the minimum", _with("monitoring", retentionDays=7), f"{NS}:monitoring.retentionDays"),
    ("address space is not a CIDR", _with("network", addressSpace="10.40.0.0/33"), "addressSpace"),
    (
        "subnet outside the address space",
        _network_subnet(privateEndpoints="10.99.0.0/24"),
        "subnets.privateEndpoints 10.99.0.0/24 is outside addressSpace",
    ),
    (
        "overlapping subnets",
        _network_subnet(databricksContainer="10.40.4.0/22"),
        "subnets.databricksContainer 10.40.4.0/22 overlaps subnets.databricksHost",
    ),
    ("Databricks subnet too small", _network_subnet(databricksHost="10.40.4.0/27"), "smaller than /26"),
    ("unknown Event Hubs sku", _with("eventHubs", sku="Basic"), f"{NS}:eventHubs.sku"),
    ("too many Standard partitions", _event_hubs_hub(partitions=64), "exceeds 32, the Standard limit"),
    ("zero partitions", _event_hubs_hub(partitions=0), f"{NS}:eventHubs.hubs[0].partitions"),
    (
        "auto-inflate below capacity",
        _with("eventHubs", capacity=4, autoInflateMaxUnits=2),
        "autoInflateMaxUnits 2 must be >= capacity 4",
    ),
    (
        "trades stream not a configured hub",
        {f"{NS}:ingestion": {"provider": "eventhubs", "tradesStream": "orders"}},
        "ingestion.tradesStream 'orders' is not one of eventHubs.hubs",
    ),
    (
        "location outside the allowed regions",
        {"azure-native:location": "brazilsouth"},
        "azure-native:location 'brazilsouth' is not in allowedLocations",
    ),
    ("missing location", {"azure-native:location": None}, "azure-native:location is required"),
    (
        "missing required tag",
        {f"{NS}:tags": {"owner": "x", "costCenter": "y"}},
        "tags is missing required keys ['dataClassification']",
    ),
    (
        "reserved tag",
        {f"{NS}:tags": {"owner": "x", "costCenter": "y", "dataClassification": "z", "environment": "p"}},
        "tags must not set ['environment']",
    ),
    (
        "soft-delete retention out of range",
        _with("keyVault", softDeleteRetentionDays=120),
        f"{NS}:keyVault.softDeleteRetentionDays",
    ),
    (
        "lifecycle expiry before cooling",
        _with("dataLake", tierToCoolAfterDays=400, expireAfterDays=365),
        "expireAfterDays 365 must be greater than tierToCoolAfterDays 400",
    ),
    (
        "archive on a zone-redundant lake",
        _with("dataLake", replication="RAGZRS", expiryAction="archive"),
        "the archive tier is not supported on RAGZRS accounts",
    ),
    (
        "lifecycle over a Delta table root",
        _with("dataLake", lifecycleContainers=["landing", "bronze"]),
        "lifecycleContainers ['bronze'] hold Delta tables or stream checkpoints",
    ),
    (
        "lifecycle over stream checkpoints",
        _with("dataLake", lifecycleContainers=["checkpoints"]),
        "lifecycleContainers ['checkpoints'] hold Delta tables or stream checkpoints",
    ),
    ("broken JSON structure", {f"{NS}:network": "{not json"}, f"{NS}:network is not valid JSON"),
]


@pytest.mark.parametrize(("case", "overrides", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_is_rejected_naming_the_key(case: str, overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(StackProgramError) as info:
        run_stack("dev", preview=True, config_overrides=overrides)
    assert isinstance(info.value.cause, ConfigError), f"{case}: {info.value.cause!r}"
    assert expected in str(info.value.cause), str(info.value.cause)
    assert info.value.registered == 0, "resources were registered before the config was validated"


def test_every_problem_is_reported_in_one_message() -> None:
    overrides = {
        f"{NS}:environment": "qa",
        **_with("monitoring", retentionDays=1),
        **_event_hubs_hub(partitions=0),
        "azure-native:location": "brazilsouth",
    }
    with pytest.raises(StackProgramError) as info:
        run_stack("dev", preview=True, config_overrides=overrides)
    problems = info.value.cause.problems  # type: ignore[attr-defined]
    keys = [f"{NS}:environment", f"{NS}:monitoring.retentionDays", f"{NS}:eventHubs.hubs[0].partitions"]
    for key in keys:
        assert any(key in p for p in problems), (key, problems)
    assert len(problems) >= 3


def test_prod_guard_rails_cannot_be_switched_off() -> None:
    overrides = {**{f"{NS}:encryption": {"customerManagedKeys": False}}, f"{NS}:lock": {"enabled": False}}
    with pytest.raises(StackProgramError) as info:
        run_stack("prod", preview=True, config_overrides=overrides)
    message = str(info.value.cause)
    assert "encryption.customerManagedKeys must be true in prod" in message
    assert "lock.enabled must be true in prod" in message


def test_preview_command_prints_the_validation_message_and_exits_non_zero() -> None:
    out = io.StringIO()
    code = preview.main(["--stack", "dev", "--no-policies", "--set", f"{NS}:environment=staging"], out=out)
    assert code == preview.EXIT_CONFIG
    assert "invalid configuration for stack 'dev'" in out.getvalue()
    assert f"{NS}:environment" in out.getvalue()


def test_preview_command_rejects_an_unknown_stack() -> None:
    out = io.StringIO()
    assert preview.main(["--stack", "nope"], out=out) == preview.EXIT_USAGE
    assert "unknown stack 'nope'" in out.getvalue()
