"""The hotPath config section: shape rules and the environment rules StackConfig applies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stack_config.hot_path import HotPathConfig

PROD = {
    "sku": "Standard_E2ads_v5",
    "capacity": 2,
    "zones": ["1", "2", "3"],
    "doubleEncryption": True,
}


def test_a_sound_prod_hot_path_has_no_problems() -> None:
    config = HotPathConfig.model_validate(PROD)
    assert (
        config.stack_problems(is_prod=True, customer_managed_keys=True, hub_consumer_groups=("kusto-hot-path",)) == []
    )
    assert (config.retention, config.hot_cache) == ("P30D", "P7D")


def test_prod_rules_are_all_reported() -> None:
    config = HotPathConfig.model_validate({})  # the dev defaults
    problems = config.stack_problems(is_prod=True, customer_managed_keys=False, hub_consumer_groups=("bronze",))
    joined = " | ".join(problems)
    for expected in (
        "consumerGroup 'kusto-hot-path'",
        "Dev(No SLA)",
        "zones",
        "doubleEncryption",
        "customerManagedKeys",
    ):
        assert expected in joined
    assert len(problems) == 5


def test_the_hot_path_needs_event_hubs() -> None:
    problems = HotPathConfig.model_validate({}).stack_problems(
        is_prod=False, customer_managed_keys=False, hub_consumer_groups=None
    )
    assert problems == ["hotPath needs ingestion.provider 'eventhubs' (Kusto reads the trades hub)"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hotCacheDays": 40}, "hotCacheDays 40 exceeds retentionDays 30"),
        ({"capacity": 2}, "Dev(No SLA) SKU runs exactly one instance"),
        ({"sku": "Standard_E2ads_v5"}, "at least 2 instances"),
        ({"zones": ["1"]}, "not zone-redundant"),
        ({"sku": "Standard_D11_v2"}, "sku"),
    ],
)
def test_bad_shapes_name_the_key(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        HotPathConfig.model_validate(changes)


def test_the_hot_path_needs_the_traded_symbols_from_databricks() -> None:
    from stack_config.model import StackConfig
    from tests.plan_queries import raw_stack_config

    raw = raw_stack_config("dev")
    assert "hotPath" in raw
    for key in ("databricks", "dashboards"):
        raw.pop(key)
    with pytest.raises(ValidationError, match=r"hotPath needs databricks"):
        StackConfig.model_validate(raw)


def test_reader_groups_are_named_by_object_id() -> None:
    group = {"name": "rta-trading-viewers", "objectId": "00000000-0000-0000-0000-00000000d002"}
    config = HotPathConfig.model_validate({"viewers": group, "monitors": {**group, "name": "ops"}})
    assert config.viewers is not None and config.viewers.object_id == group["objectId"]
    with pytest.raises(ValidationError, match=r"viewers\.objectId"):
        HotPathConfig.model_validate({"viewers": {**group, "objectId": "rta-trading-viewers"}})
    with pytest.raises(ValidationError, match=r"monitors\.name"):
        HotPathConfig.model_validate({"monitors": {"objectId": group["objectId"]}})
