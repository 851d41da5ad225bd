"""The capacity contract: the declared load, what the model says it needs, and stacks too small for it refused."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pytest

from offline import preview
from offline.engine import stack_config_values
from stack_config import ConfigError, parse_stack_config
from stack_config import capacity_model as m

NS = "rta-platform"


def _raw(stack: str) -> dict[str, Any]:
    values, _ = stack_config_values(stack)
    raw = {
        k.split(":", 1)[1]: (json.loads(v) if v[:1] in "[{" else v) for k, v in values.items() if k.startswith(f"{NS}:")
    }
    raw["location"] = values["azure-native:location"]
    return raw


def _problems(raw: dict[str, Any], stack: str = "prod") -> str:
    with pytest.raises(ConfigError) as info:
        parse_stack_config(raw, stack)
    return str(info.value)


FIGURE = m.BenchmarkFigure({"bronze": 20_000.0, "silver": 10_000.0, "gold": 50_000.0}, 2, "test", "test", "test")


def _load(peak: int, size: int = 250, headroom: int = 0, p99: float = 5) -> m.Load:
    return m.Load(peak, peak, size, headroom, p99)


def test_undersized_prod_is_refused_with_the_numbers() -> None:
    raw = _raw("prod")
    raw["capacity"] = {**raw["capacity"], "peakEventsPerSecond": 1_200_000, "sustainedEventsPerSecond": 1_000_000}
    message = _problems(raw)
    # 1.2 M x 1.25 x 250 B = 375 MB/s; 75 PUs at 5 MB/s each, beyond Premium's 16.
    assert "eventHubs.capacity 2 PUs is too small" in message
    assert "needs 75 PUs" in message and "375.0 MB/s" in message
    assert "Premium stops at 16 PUs" in message
    assert "eventHubs.hubs[trades].partitions 32 partitions is too small" in message
    # One partition per core bronze needs at the design load (the benchmark's per-core figure).
    assert f"needs {math.ceil(1_500_000 / m.benchmark_figure().rate('bronze'))} partitions" in message
    # A stage needing more 8-vCPU workers than the job policy's 8 is refused naming the policy's key.
    stage_workers = {st: 1_500_000 / (m.benchmark_figure().rate(st) * 8) for st in m.STAGES}
    for stage, workers in stage_workers.items():
        too_small = f"databricks.clusterPolicy.maxWorkers 8 workers is too small for the declared load: {stage}"
        assert (too_small in message) == (workers > 8), (stage, workers)


def test_shipped_prod_carries_its_declared_load() -> None:
    config = parse_stack_config(_raw("prod"), "prod")
    report = m.report(config)
    assert report is not None and report.checks and not report.failures
    pus = next(c for c in report.checks if c.unit == "PUs")
    # 25,000 x 1.25 x 250 B = 7.8 MB/s: 1.56 of the 2 PUs.
    assert pus.needed == pytest.approx(1.5625) and pus.configured == 2


def test_prod_must_declare_its_load() -> None:
    raw = _raw("prod")
    del raw["capacity"]
    assert "capacity is required in prod" in _problems(raw)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"peakEventsPerSecond": 5, "sustainedEventsPerSecond": 10}, "peakEventsPerSecond 5 is below"),
        ({"retention": {"bronzeHotDays": 90, "bronzeColdDays": 30}}, "bronzeColdDays 30 must be greater"),
        ({"meanEventBytes": 2_000_000}, f"{NS}:capacity.meanEventBytes"),
    ],
)
def test_capacity_section_values_are_checked(change: dict[str, Any], expected: str) -> None:
    raw = _raw("prod")
    raw["capacity"] = {**raw["capacity"], **change}
    assert expected in _problems(raw)


def test_event_hubs_units_per_tier() -> None:
    # Small events: Standard's 1,000 events/s per TU binds before its 1 MB/s.
    standard = m.event_hubs_checks("Standard", 4, 4, _load(10_000, size=100), bronze_cores=1)[0]
    assert standard.needed == 10 and not standard.ok
    # Dedicated at the seed's 1.2 M events/s: 100,000 events/s per CU -> 12 CUs, bytes need only 3.
    dedicated = m.event_hubs_checks("Dedicated", 12, 100, _load(1_200_000), bronze_cores=60)[0]
    assert dedicated.needed == 12 and dedicated.ok
    premium = m.event_hubs_checks("Premium", 16, 100, _load(1_200_000), bronze_cores=60)[0]
    assert premium.beyond is not None and "Dedicated" in premium.beyond


def test_partitions_bound_bronze_parallelism_and_tier_ceiling() -> None:
    checks = m.event_hubs_checks("Dedicated", 20, 64, _load(1_200_000), bronze_cores=80)
    partitions = checks[1]
    assert partitions.needed == 80 and partitions.configured == 64 and not partitions.ok
    over = m.event_hubs_checks("Standard", 40, 32, _load(10_000), bronze_cores=40)[1]
    assert over.beyond is not None and "32 partitions" in over.beyond


def test_confluent_ckus_from_ingress_and_multi_zone_minimum() -> None:
    big = m.confluent_checks(6, "MULTI_ZONE", 120, _load(1_200_000), bronze_cores=60)[0]
    assert big.needed == pytest.approx(5.0) and big.ok  # 300 MB/s at 60 MB/s per CKU
    small = m.confluent_checks(1, "MULTI_ZONE", 6, _load(1_000), bronze_cores=1)[0]
    assert small.needed == 2 and not small.ok


def test_stage_workers_from_the_per_core_figure() -> None:
    shapes = [m.StageShape("silver", "Standard_D8ds_v5", 1, 4, "k")]
    checks, problems = m.stage_checks(shapes, _load(400_000), FIGURE)
    assert not problems
    # 400,000 / (10,000 per core x 8 vCPUs) = 5 workers > 4.
    assert checks[0].needed == 5 and not checks[0].ok
    _, unreadable = m.stage_checks([m.StageShape("gold", "Standard_DS3_v2", 1, 4, "k")], _load(1), FIGURE)
    assert unreadable and "Standard_DS3_v2" in unreadable[0]


def test_vcpus_follow_azure_size_names() -> None:
    assert m.vcpus("Standard_D8ds_v5") == 8
    assert m.vcpus("Standard_E16ds_v4") == 16
    assert m.vcpus("Standard_L8s_v3") == 8
    assert m.vcpus("Standard_DS3_v2") is None


def _compute(raw: dict[str, Any], **stages: dict[str, Any]) -> dict[str, Any]:
    raw["databricks"] = {**raw["databricks"], "compute": {**raw["databricks"].get("compute", {}), **stages}}
    return raw


def test_an_undersized_stage_override_is_refused_with_its_key_and_the_numbers() -> None:
    # 1.5 M events/s at design load / (the benchmark's bronze events/s per core x 16 vCPUs).
    needed = 1_500_000 / (m.benchmark_figure().rate("bronze") * 16)
    too_few = math.ceil(needed) - 1
    assert too_few >= 1, "the scale load must need more than one bronze worker for this case"
    raw = _compute(_raw("scale"), bronze={"maxWorkers": too_few})
    message = _problems(raw, "scale")
    assert f"databricks.compute.bronze.maxWorkers {too_few} workers is too small for the declared load" in message
    assert f"needs {needed:,.2f} workers" in message and "1,500,000 events/s" in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ({"maxWorkers": 12}, "compute.silver.maxWorkers 12 exceeds clusterPolicy.maxWorkers 8"),
        ({"nodeType": "Standard_E8ds_v5"}, "compute.silver.nodeType 'Standard_E8ds_v5' is not one of"),
        ({"minWorkers": 4, "maxWorkers": 4}, "compute.silver.minWorkers 4 must be below compute.silver.maxWorkers 4"),
        ({"maxWorkers": 1}, f"{NS}:databricks.compute.silver.maxWorkers"),
        ({"spotty": True}, f"{NS}:databricks.compute.silver.spotty"),
    ],
)
def test_stage_overrides_must_fit_the_job_policy(stage: dict[str, Any], expected: str) -> None:
    assert expected in _problems(_compute(_raw("scale"), silver=stage), "scale")


def test_the_model_proposes_each_stages_workers_from_the_load() -> None:
    config = parse_stack_config(_raw("scale"), "scale")
    report = m.report(config)
    assert report is not None
    needed = {c.key: c.needed for c in report.checks if c.unit == "workers"}
    for shape in m.stage_shapes(config):
        # Proposed: the workers the load needs, rounded up (at least 2, the smallest autoscaling range).
        assert shape.key == f"databricks.compute.{shape.stage}.maxWorkers"
        assert shape.max_workers == max(2, math.ceil(needed[shape.key])), shape
        assert 1 <= shape.min_workers < shape.max_workers
    # A stack without a declared load keeps the policy's bounds.
    dev = parse_stack_config(_raw("dev"), "dev")
    policy = dev.databricks.cluster_policy if dev.databricks else None
    assert policy is not None
    assert {(s.min_workers, s.max_workers) for s in m.stage_shapes(dev)} == {(policy.min_workers, policy.max_workers)}


def test_triggers_from_the_latency_objective() -> None:
    fast = m.triggers(_load(1_200_000, headroom=25, p99=5))
    assert fast.interval is None  # 5 s / 3 stages / 2 < 1 s: back to back
    assert fast.max_offsets_per_trigger == 1_250_000  # 1.5 M/s x 0.83 s
    slow = m.triggers(_load(1_000, p99=60))
    assert slow.interval == "10 seconds" and slow.max_offsets_per_trigger == 10_000


def test_per_core_figure_comes_from_the_benchmark_file() -> None:
    data = json.loads(m.BENCHMARK_FIGURE.read_text())
    figure = m.benchmark_figure()
    for stage in m.STAGES:
        assert figure.rate(stage) == data["events_per_second"][stage] / data["cores"]


def test_preview_reports_an_undersized_stack_as_a_config_error() -> None:
    capacity = _raw("prod")["capacity"]
    capacity["peakEventsPerSecond"] = capacity["sustainedEventsPerSecond"] = 1_200_000
    out = io.StringIO()
    code = preview.main(["--stack", "prod", "--no-policies", "--set", f"{NS}:capacity={json.dumps(capacity)}"], out=out)
    text = out.getvalue()
    assert code == preview.EXIT_CONFIG, text
    assert "invalid configuration for stack 'prod'" in text and "needs 75 PUs" in text
    assert "Traceback" not in text


def test_the_scale_stack_carries_seed_001s_load() -> None:
    config = parse_stack_config(_raw("scale"), "scale")
    report = m.report(config)
    assert report is not None and not report.failures
    assert config.capacity is not None and config.capacity.peak_events_per_second == 1_200_000
    units = {c.unit: c for c in report.checks if c.unit in ("CUs", "partitions")}
    # 1.5 M events/s: 15 CUs at 100,000 events/s each; one partition per core bronze needs.
    assert units["CUs"].needed == 15
    assert units["partitions"].needed == math.ceil(1_500_000 / m.benchmark_figure().rate("bronze"))


def test_the_scale_stack_previews_clean_with_every_control(scale_plan: Any) -> None:
    from offline import access_paths, apply_rules, policy_runner

    config = policy_runner.default_config_for(scale_plan)
    assert config.name == "prod.json"  # no config of its own: the strict prod pack
    report = policy_runner.evaluate(scale_plan, config)
    assert [(v.policy, v.resource, v.message) for v in report.mandatory] == []
    index = apply_rules.PlanIndex(scale_plan)
    assert not apply_rules.evaluate(scale_plan, ix=index).has_errors
    assert not access_paths.evaluate(scale_plan, ix=index).has_errors
    namespace = scale_plan.one("azure-native:eventhub:Namespace", "eventstreaming-ehns")
    assert namespace.inputs["clusterArmId"].startswith("/subscriptions/00000000-")


def test_an_example_subscription_in_a_resource_id_is_an_example_value() -> None:
    from stack_config import examples

    found = dict(examples.find_examples({f"{NS}:eventHubs": _raw("scale")["eventHubs"]}))
    assert "example subscription" in found[f"{NS}:eventHubs.dedicatedClusterId"]
    real = (
        "/subscriptions/3f2b9c1e-7d4a-4e8b-9a61-2c5d8e0f1a7b/resourceGroups/rg/providers/Microsoft.EventHub/clusters/c"
    )
    assert examples.example_kind(real) is None


def test_the_jobs_take_their_trigger_settings_from_the_model(prod_plan: Any, scale_plan: Any) -> None:
    def params(plan: Any, job: str) -> list[str]:
        resource = plan.one("databricks:index/job:Job", f"streaming-jobs-{job}")
        return resource.inputs["tasks"][0]["sparkPythonTask"]["parameters"]

    # p99 5 s: back to back (no interval), bronze capped at design rate x 5/3/2 s.
    for plan, cap in ((prod_plan, "26042"), (scale_plan, "1250000")):
        bronze = params(plan, "bronze")
        assert bronze[bronze.index("--max-offsets-per-trigger") + 1] == cap
        assert "--trigger-interval" not in bronze
        assert "--max-offsets-per-trigger" not in params(plan, "silver")


def test_the_stack_exports_the_model_s_report_and_the_preview_prints_that(scale_plan: Any) -> None:
    import io

    from offline import preview

    report = m.report(parse_stack_config(_raw("scale"), "scale"))
    assert report is not None
    exported = scale_plan.outputs["capacity"]
    assert [(c["key"], c["configured"], c["ok"]) for c in exported["checks"]] == [
        (c.key, c.configured, c.ok) for c in report.checks
    ]
    assert exported["triggers"]["maxOffsetsPerTrigger"] == report.triggers.max_offsets_per_trigger
    # The preview renders the plan's output: a doctored output shows up as it is.
    exported["checks"][0]["configured"] = 1
    exported["checks"][0]["ok"] = False
    out = io.StringIO()
    try:
        preview.render_capacity(scale_plan, out)
    finally:
        exported["checks"][0].update(configured=report.checks[0].configured, ok=report.checks[0].ok)
    first = out.getvalue().splitlines()[3]
    assert "NOT ENOUGH" in first, first


def test_a_stack_without_a_declared_load_exports_no_capacity_and_says_so() -> None:
    import io

    from offline import preview
    from offline.plan import Plan

    out = io.StringIO()
    preview.render_capacity(Plan(project="p", stack="s", preview=True, resources=[], outputs={}), out)
    assert "no `capacity` section" in out.getvalue()
