"""The preview's estimated monthly cost (offline/cost.py): quantities from the recorded plans, prices as data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from offline import cost
from offline.engine import stack_config_values
from offline.plan import Plan
from tests.plan_queries import only

NS = "rta-platform"
WAREHOUSE = "databricks:index/sqlEndpoint:SqlEndpoint"


def _lines(plan: Plan) -> dict[tuple[str, str], float]:
    return {(line.meter, line.resource): line.quantity for line in cost.inventory(plan, 730)}


def test_prod_inventory_is_read_from_the_plan(prod_plan: Plan) -> None:
    lines = _lines(prod_plan)
    namespace = only(prod_plan, "azure-native:eventhub:Namespace")
    assert lines[("eventhubs.premium.pu-hour", namespace.name)] == namespace.inputs["sku"]["capacity"] * 730
    db = only(prod_plan, "azure-native:sql:Database")
    assert lines[("sql.businesscritical.gen5.vcore-hour", db.name)] == db.inputs["sku"]["capacity"] * 730
    assert lines[("firewall.premium.deployment-hour", "hub-firewall")] == 730
    endpoints = len(prod_plan.of_type("azure-native:network:PrivateEndpoint"))
    assert lines[("privatelink.endpoint-hour", f"{endpoints} private endpoints")] == endpoints * 730
    continuous = [j for j in prod_plan.of_type("databricks:index/job:Job") if j.inputs.get("continuous")]
    assert continuous
    for job in continuous:
        (cluster,) = job.inputs["jobClusters"]
        new = cluster["newCluster"]
        nodes = (new["autoscale"]["minWorkers"] if "autoscale" in new else new["numWorkers"]) + 1
        node = new["nodeTypeId"].lower()
        assert lines[(f"vm.{node}.hour", job.name)] == lines[(f"databricks.jobs.{node}.node-hour", job.name)]
        assert lines[(f"vm.{node}.hour", job.name)] == nodes * 730
    batch = {j.name for j in prod_plan.of_type("databricks:index/job:Job") if not j.inputs.get("continuous")}
    assert not {resource for _, resource in lines} & batch, "batch jobs are not inventoried as always-on"
    warehouse = only(prod_plan, "databricks:index/sqlEndpoint:SqlEndpoint")
    assert lines[("databricks.sql-pro.small.cluster-hour", warehouse.name)] == warehouse.inputs["minNumClusters"] * 730


def test_the_hot_path_cluster_is_counted_per_instance_hour(dev_plan: Plan, prod_plan: Plan) -> None:
    cluster = only(dev_plan, "azure-native:kusto:Cluster")
    sku = cluster.inputs["sku"]
    meter = f"kusto.{sku['name'].lower().replace(' ', '-')}.instance-hour"
    assert _lines(dev_plan)[(meter, cluster.name)] == sku["capacity"] * 730
    assert not any(m.startswith("kusto.") for m, _ in _lines(prod_plan)), "prod has no hot path"


def _config(stack: str, section: str) -> dict[str, Any]:
    values, _ = stack_config_values(stack)
    data: dict[str, Any] = json.loads(values[f"{NS}:{section}"])
    return data


def _nodes(job: Any) -> float:
    (cluster,) = job.inputs["jobClusters"]
    new = cluster["newCluster"]
    return float((new["autoscale"]["minWorkers"] if "autoscale" in new else new["numWorkers"]) + 1)


def test_dev_counts_the_run_window_and_what_stops_outside_it(dev_plan: Plan) -> None:
    """With databricks.jobs.runWindow the continuous jobs run only in it, the serverless database pauses
    its auto-pause delay after it, and the alerts (scheduled in its whole hours) keep the warehouse up then."""
    window = _config("dev", "databricks")["jobs"]["runWindow"]
    (start_h, start_m), (end_h, end_m) = ([int(x) for x in window[k].split(":")] for k in ("start", "end"))
    days = 730 / 24 * len(window["days"]) / 7  # window days a month
    window_hours = days * ((end_h + end_m / 60) - (start_h + start_m / 60))
    assert window_hours < 730 / 2
    lines = _lines(dev_plan)
    continuous = [j for j in dev_plan.of_type("databricks:index/job:Job") if j.inputs.get("continuous")]
    assert continuous
    for job in continuous:
        node = job.inputs["jobClusters"][0]["newCluster"]["nodeTypeId"].lower()
        assert lines[(f"vm.{node}.hour", job.name)] == pytest.approx(_nodes(job) * window_hours)
        assert lines[(f"databricks.jobs.{node}.node-hour", job.name)] == pytest.approx(_nodes(job) * window_hours)
    database = _config("dev", "sql")["database"]
    assert database["computeModel"] == "Serverless" and database["autoPauseDelayMinutes"] > 0
    db = only(dev_plan, "azure-native:sql:Database")
    active = window_hours + days * database["autoPauseDelayMinutes"] / 60
    assert lines[("sql.generalpurpose.gen5.vcore-hour", db.name)] == pytest.approx(database["minVCores"] * active)
    dashboards = _config("dev", "dashboards")
    interval, stop = dashboards["alertIntervalMinutes"], dashboards["warehouse"]["autoStopMinutes"]
    assert interval <= stop and dashboards["warehouse"]["keptUpByAlerts"]
    alert_hours = (end_h - 1) - (start_h + bool(start_m)) + 1  # the window's whole clock hours
    warehouse = only(dev_plan, WAREHOUSE)
    expected = warehouse.inputs["minNumClusters"] * days * (alert_hours + (stop - interval) / 60)
    assert lines[("databricks.sql-pro.2x-small.cluster-hour", warehouse.name)] == pytest.approx(expected)


def test_a_warehouse_the_alerts_let_stop_counts_its_share_of_the_month(confluent_plan: Plan) -> None:
    dashboards = _config("confluent", "dashboards")
    interval, stop = dashboards["alertIntervalMinutes"], dashboards["warehouse"]["autoStopMinutes"]
    assert interval > stop and "runWindow" not in _config("confluent", "databricks")["jobs"]
    warehouse = only(confluent_plan, WAREHOUSE)
    size = warehouse.inputs["clusterSize"].lower()
    quantity = _lines(confluent_plan)[(f"databricks.sql-pro.{size}.cluster-hour", warehouse.name)]
    assert quantity == pytest.approx(warehouse.inputs["minNumClusters"] * 730 * stop / interval)


def test_a_failover_group_adds_the_geo_secondary(scale_plan: Plan, prod_plan: Plan) -> None:
    assert any(r.endswith("(geo-secondary)") for _, r in _lines(scale_plan))
    assert not any(r.endswith("(geo-secondary)") for _, r in _lines(prod_plan))


def test_every_meter_the_shipped_stacks_use_has_a_price_entry_with_its_source(
    dev_plan: Plan, prod_plan: Plan, confluent_plan: Plan, scale_plan: Plan
) -> None:
    prices = cost.load_prices()
    used = {m for plan in (dev_plan, prod_plan, confluent_plan, scale_plan) for m, _ in _lines(plan)}
    assert used and used <= set(prices.meters), sorted(used - set(prices.meters))
    for key, price in prices.meters.items():
        assert price.source.startswith("https://"), key
        if price.usd is not None:
            assert price.as_of is not None and date.fromisoformat(price.as_of) <= date(2026, 12, 31), key


def test_cost_per_million_events_once_every_line_is_priced(prod_plan: Plan) -> None:
    loaded = cost.load_prices()
    everything = cost.Prices(
        loaded.hours_per_month,
        {k: cost.Price(0.5, p.unit, p.source, "2026-12-06") for k, p in loaded.meters.items()},
    )
    est = cost.estimate(prod_plan, everything, 10_000)
    total = sum(line.quantity * 0.5 for line in cost.inventory(prod_plan, 730))
    assert est.priced_total == pytest.approx(total)
    assert est.events_per_month == 10_000 * 3600 * 730
    assert est.per_million_events == pytest.approx(total / (10_000 * 3600 * 730 / 1e6))
    text = "\n".join(cost.render(est, everything))
    assert f"${est.per_million_events:,.3f}" in text and "seed 001's $0.85" in text
    # One unpriced meter: no per-million figure, and the meter is named.
    unpriced = cost.Price(None, "endpoint-hour", "https://x", None)
    partial = cost.Prices(everything.hours_per_month, {**everything.meters, "privatelink.endpoint-hour": unpriced})
    est = cost.estimate(prod_plan, partial, 10_000)
    assert est.per_million_events is None and est.unpriced == ["privatelink.endpoint-hour"]
    assert "not computed while meters are unpriced" in "\n".join(cost.render(est, partial))


@pytest.mark.parametrize("stack", ["prod", "scale"])
def test_the_shipped_prices_give_each_line_its_quantity_times_its_price(
    stack: str, prod_plan: Plan, scale_plan: Plan
) -> None:
    plan = {"prod": prod_plan, "scale": scale_plan}[stack]
    prices = cost.load_prices()
    load = cost.sustained_load(stack_config_values(stack)[0])
    assert load
    est = cost.estimate(plan, prices, load)
    total = 0.0
    for line, usd in est.lines:
        price = prices.meters[line.meter].usd
        if price is None:
            assert usd is None and line.meter in est.unpriced
        else:
            assert usd == pytest.approx(line.quantity * price)
            total += line.quantity * price
    assert total > 0 and est.priced_total == pytest.approx(total)
    assert est.unpriced == sorted({m for m, _ in _lines(plan)} - {k for k, p in prices.meters.items() if p.usd})
    text = "\n".join(cost.render(est, prices))
    assert f"priced lines: ${total:,.0f} a month" in text
    if est.unpriced:
        # No per-million figure while a meter is unpriced; the priced lines alone give a lower bound.
        assert est.per_million_events is None
        floor = total / (load * 3600 * 730 / 1e6)
        assert f"${floor:,.4f} per million events from the priced lines alone (a lower bound)" in text
    else:
        assert f"${est.per_million_events:,.3f} at" in text


def test_declared_load_comes_from_the_capacity_section() -> None:
    assert cost.sustained_load({"rta-platform:capacity": json.dumps({"sustainedEventsPerSecond": 1200})}) == 1200
    assert cost.sustained_load({}) is None


@pytest.mark.parametrize(
    ("meters", "expected"),
    [
        ({"x": {"usd": 1.0, "unit": "h", "source": "https://a", "asOf": None}}, "meters.x has a price but no source"),
        ({"x": {"usd": -1, "unit": "h", "source": "https://a", "asOf": "2026-01-01"}}, "meters.x.usd -1"),
        ({"x": {"usd": 1.0, "source": "https://a", "asOf": "2026-01-01"}}, "meters.x lacks 'unit'"),
    ],
)
def test_a_bad_price_file_is_refused_naming_the_entry(tmp_path: Path, meters: dict[str, object], expected: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"hoursPerMonth": 730, "meters": meters}))
    with pytest.raises(cost.PriceFileError, match=expected.replace("(", r"\(").replace("$", r"\$")):
        cost.load_prices(path)
