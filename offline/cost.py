"""The preview's estimated monthly cost: a priced inventory of the plan.

`inventory` turns the plan already in memory (nothing is re-run) into billable
quantities per month, one line per meter and resource: Event Hubs units, SQL
vCores (and the failover group's geo-secondary), the firewall, private
endpoints, the continuous jobs' cluster nodes (their VMs and their DBUs), the
SQL warehouse. `offline/prices.json` holds the prices as data, each with the
page it was read from and the date; a meter without a price is listed as
unpriced, never guessed. With every line priced, the total over the stack's
declared load (`capacity.sustainedEventsPerSecond`) gives the cost per million
events, set against seed 001's target of $0.85.

Quantities are floors where the platform scales: autoscaling job clusters at
their minimum workers, serverless SQL at its minimum vCores. Not inventoried:
storage, Log Analytics ingestion, data processed (firewall, private link),
batch jobs (the nightly maintenance run), the hot path's Kusto cluster and
function app, Defender plans, Event Hubs Dedicated clusters and Confluent Cloud
(outside the stack).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline.plan import Plan

PRICES = Path(__file__).with_name("prices.json")
SEED_TARGET_PER_MILLION = 0.85  # seed 001: USD per million events


class PriceFileError(ValueError):
    """offline/prices.json is malformed: the message names the entry and what is wrong."""


@dataclass(frozen=True)
class Price:
    usd: float | None
    unit: str
    source: str
    as_of: str | None
    note: str = ""


@dataclass(frozen=True)
class Prices:
    hours_per_month: float
    meters: Mapping[str, Price]


@dataclass(frozen=True)
class Line:
    meter: str
    resource: str
    quantity: float  # per month, in the meter's unit
    basis: str  # how the quantity was derived


@dataclass(frozen=True)
class Estimate:
    lines: tuple[tuple[Line, float | None], ...]  # each line with its monthly USD, None = unpriced
    events_per_month: float | None

    @property
    def priced_total(self) -> float:
        return sum(usd for _, usd in self.lines if usd is not None)

    @property
    def unpriced(self) -> list[str]:
        return sorted({line.meter for line, usd in self.lines if usd is None})

    @property
    def per_million_events(self) -> float | None:
        """USD per million events at the declared load; None while a line is unpriced or no load is declared."""
        if self.unpriced or not self.events_per_month:
            return None
        return self.priced_total / (self.events_per_month / 1e6)


def load_prices(path: Path = PRICES) -> Prices:
    try:
        data = json.loads(path.read_text())
        hours = float(data["hoursPerMonth"])
        raw_meters = data["meters"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PriceFileError(f"{path}: not a price file ({exc})") from None
    meters: dict[str, Price] = {}
    for key, entry in raw_meters.items():
        try:
            price = Price(entry["usd"], entry["unit"], entry["source"], entry["asOf"], entry.get("note", ""))
        except (KeyError, TypeError) as exc:
            raise PriceFileError(f"{path}: meters.{key} lacks {exc}") from None
        if price.usd is not None and (not isinstance(price.usd, int | float) or price.usd < 0):
            raise PriceFileError(f"{path}: meters.{key}.usd {price.usd!r} is not a price")
        if price.usd is not None and not (price.source and price.as_of):
            raise PriceFileError(f"{path}: meters.{key} has a price but no source and asOf date")
        meters[key] = price
    return Prices(hours, meters)


def _slug(value: str) -> str:
    return value.lower().replace(" ", "-")


def inventory(plan: Plan, hours: float) -> list[Line]:
    """Billable quantities per month from the plan's resources (inputs only: no outputs needed)."""
    lines: list[Line] = []
    for ns in plan.of_type("azure-native:eventhub:Namespace"):
        sku = ns.inputs.get("sku") or {}
        tier = str(sku.get("tier") or sku.get("name") or "")
        if tier in ("Premium", "Standard", "Basic"):
            units = float(sku.get("capacity") or 1)
            unit = "pu" if tier == "Premium" else "tu"
            lines.append(
                Line(f"eventhubs.{tier.lower()}.{unit}-hour", ns.name, units * hours, f"{units:g} x {hours:g} h")
            )
    geo_secondary = bool(plan.of_type("azure-native:sql:FailoverGroup"))
    for db in plan.of_type("azure-native:sql:Database"):
        sku = db.inputs.get("sku") or {}
        serverless = "_S_" in str(sku.get("name", ""))
        vcores = float((db.inputs.get("minCapacity") if serverless else sku.get("capacity")) or 0)
        meter = f"sql.{_slug(str(sku.get('tier', '')))}.{_slug(str(sku.get('family', 'Gen5')))}.vcore-hour"
        basis = f"{vcores:g} vCores x {hours:g} h" + (" (serverless minimum: a floor)" if serverless else "")
        lines.append(Line(meter, db.name, vcores * hours, basis))
        if geo_secondary:
            lines.append(Line(meter, f"{db.name} (geo-secondary)", vcores * hours, basis + ", failover group"))
    for fw in plan.of_type("azure-native:network:AzureFirewall"):
        tier = str((fw.inputs.get("sku") or {}).get("tier", "Standard"))
        lines.append(Line(f"firewall.{tier.lower()}.deployment-hour", fw.name, hours, f"1 x {hours:g} h"))
    endpoints = plan.of_type("azure-native:network:PrivateEndpoint")
    if endpoints:
        n = len(endpoints)
        lines.append(Line("privatelink.endpoint-hour", f"{n} private endpoints", n * hours, f"{n} x {hours:g} h"))
    for job in plan.of_type("databricks:index/job:Job"):
        if not job.inputs.get("continuous"):
            continue
        for cluster in job.inputs.get("jobClusters") or []:
            new = cluster.get("newCluster") or {}
            node = str(new.get("nodeTypeId", "")).lower()
            scale = new.get("autoscale") or {}
            workers = float((scale.get("minWorkers") if scale else new.get("numWorkers")) or 0)
            nodes = workers + 1  # the driver
            basis = f"({workers:g} workers{' minimum' if scale else ''} + driver) x {hours:g} h"
            lines.append(Line(f"vm.{node}.hour", job.name, nodes * hours, basis))
            lines.append(Line(f"databricks.jobs.{node}.node-hour", job.name, nodes * hours, basis))
    for wh in plan.of_type("databricks:index/sqlEndpoint:SqlEndpoint"):
        clusters = float(wh.inputs.get("minNumClusters") or 1)
        size = _slug(str(wh.inputs.get("clusterSize", "")))
        # The SQL alerts query it every few minutes, inside its auto-stop delay: it never stops.
        basis = f"{clusters:g} cluster(s) x {hours:g} h (kept up by the SQL alerts)"
        lines.append(Line(f"databricks.sql-pro.{size}.cluster-hour", wh.name, clusters * hours, basis))
    return lines


def estimate(plan: Plan, prices: Prices, sustained_events_per_second: float | None) -> Estimate:
    priced: list[tuple[Line, float | None]] = []
    for line in inventory(plan, prices.hours_per_month):
        price = prices.meters.get(line.meter)
        usd = None if price is None or price.usd is None else line.quantity * price.usd
        priced.append((line, usd))
    events = None
    if sustained_events_per_second:
        events = sustained_events_per_second * 3600 * prices.hours_per_month
    return Estimate(tuple(priced), events)


def sustained_load(config: Mapping[str, str]) -> float | None:
    """`capacity.sustainedEventsPerSecond` from the stack's config values (JSON text), if declared."""
    raw = config.get("rta-platform:capacity")
    if not raw:
        return None
    try:
        value: Any = json.loads(raw).get("sustainedEventsPerSecond")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def render(est: Estimate, prices: Prices) -> list[str]:
    lines = ["Estimated monthly cost (offline/cost.py; list prices from offline/prices.json, USD, before discounts):"]
    rows = [("meter", "resource", "quantity", "unit price", "monthly")]
    for line, usd in est.lines:
        price = prices.meters.get(line.meter)
        unit = price.unit if price else ""
        rows.append(
            (
                line.meter,
                line.resource,
                f"{line.quantity:,.0f} {unit}".strip(),
                "no entry" if price is None else "unpriced" if price.usd is None else f"${price.usd:,.4g}",
                "-" if usd is None else f"${usd:,.0f}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines += ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.append(f"  priced lines: ${est.priced_total:,.0f} a month")
    if est.unpriced:
        lines.append(f"  unpriced meters ({len(est.unpriced)}): {', '.join(est.unpriced)}")
        lines.append("    set usd, source and asOf for each in offline/prices.json; the total is incomplete until then")
    per_million = est.per_million_events
    if est.events_per_month is None:
        lines.append("  no capacity.sustainedEventsPerSecond: no cost per million events")
    elif per_million is None:
        lines.append(
            f"  cost per million events: not computed while meters are unpriced "
            f"({est.events_per_month / 1e6:,.0f} M events a month at the declared load; "
            f"seed 001's target ${SEED_TARGET_PER_MILLION})"
        )
    else:
        verdict = "within" if per_million <= SEED_TARGET_PER_MILLION else "above"
        lines.append(
            f"  cost per million events: ${per_million:,.3f} at {est.events_per_month / 1e6:,.0f} M events a month, "
            f"{verdict} seed 001's ${SEED_TARGET_PER_MILLION}"
        )
    return lines
