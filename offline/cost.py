"""The preview's estimated monthly cost: a priced inventory of the plan.

`inventory` turns the plan already in memory (nothing is re-run) into billable
quantities per month, one line per meter and resource: Event Hubs units, SQL
vCores (and the failover group's geo-secondary), the firewall, private
endpoints, the continuous jobs' cluster nodes (their VMs and their DBUs), the
SQL warehouse, the hot path's Kusto cluster. `offline/prices.json` holds the prices as data, each with the
page it was read from and the date; a meter without a price is listed as
unpriced, never guessed. With every line priced, the total over the stack's
declared load (`capacity.sustainedEventsPerSecond`) gives the cost per million
events, set against seed 001's target of $0.85.

Quantities are floors where the platform scales: autoscaling job clusters at
their minimum workers, serverless SQL at its minimum vCores. Hours follow the
schedules in the plan: with a run window (`databricks.jobs.runWindow`, read
from the window jobs' crons) the continuous jobs count only the window's hours
and a serverless database with auto-pause the window plus its pause delay;
the SQL warehouse counts the hours its alerts keep it up (read from the
alerts' crons and its `autoStopMins`: see `_warehouse_hours`). Not inventoried:
storage, Log Analytics ingestion, data processed (firewall, private link),
batch jobs (the nightly maintenance run), the hot path's function app
(billed per execution), Defender plans, Event Hubs Dedicated clusters and Confluent Cloud
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


JOB = "databricks:index/job:Job"
KUSTO_CLUSTER = "azure-native:kusto:Cluster"
ALERT = "databricks:index/alertV2:AlertV2"
WAREHOUSE = "databricks:index/sqlEndpoint:SqlEndpoint"


@dataclass(frozen=True)
class Weekly:
    """A weekly schedule: `days` days a week, `hours_per_day` hours each."""

    days: int
    hours_per_day: float

    def days_per_month(self, hours_per_month: float) -> float:
        return hours_per_month / 24 * self.days / 7

    def hours(self, hours_per_month: float) -> float:
        return self.days_per_month(hours_per_month) * self.hours_per_day

    def describe(self) -> str:
        return f"{self.days} days x {self.hours_per_day:g} h a week"


def _days(dow: str) -> int:
    """Days a Quartz day-of-week field covers ("?" and "*": every day; "MON,TUE": two; "MON-FRI": five)."""
    if dow in ("?", "*"):
        return 7
    names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    days = 0
    for part in dow.split(","):
        first, _, last = part.partition("-")
        days += names.index(last) - names.index(first) + 1 if last else 1
    return days


def run_window(plan: Plan) -> Weekly | None:
    """The continuous jobs' run window, from the schedules of the `<prefix>-run-window-open`/`-close` jobs
    (components/databricks_jobs.py; Quartz `sec min hour ? * days`), or None when they run around the clock."""
    crons: dict[str, str] = {}
    for job in plan.of_type(JOB):
        name = str(job.inputs.get("name", ""))
        for action in ("open", "close"):
            if name.endswith(f"-run-window-{action}"):
                crons[action] = str((job.inputs.get("schedule") or {}).get("quartzCronExpression", ""))
    if set(crons) != {"open", "close"}:
        return None
    clocks = {}
    for action, cron in crons.items():
        _sec, minute, hour, _dom, _month, dow = cron.split()
        clocks[action] = (int(hour) + int(minute) / 60, _days(dow))
    (start, days), (end, _) = clocks["open"], clocks["close"]
    return Weekly(days, end - start)


def alert_schedule(plan: Plan) -> tuple[int, Weekly | None] | None:
    """The SQL alerts' evaluation interval in minutes and, when confined to some hours, their weekly span
    (Quartz `0 0/N H1-H2 ? * days`; `0 0/N * * * ?` around the clock); None without alerts. The alerts share
    one schedule (components/serving_dashboards.py); should they differ, the busiest one counts."""
    schedules: list[tuple[int, Weekly | None]] = []
    for alert in plan.of_type(ALERT):
        cron = (alert.inputs.get("schedule") or {}).get("quartzCronSchedule")
        if not cron:
            continue
        _sec, minute, hour, _dom, _month, dow = str(cron).split()
        interval = int(minute.split("/")[1]) if "/" in minute else 60
        if hour == "*":
            schedules.append((interval, None))
        else:
            first, _, last = hour.partition("-")
            schedules.append((interval, Weekly(_days(dow), int(last or first) - int(first) + 1)))
    if not schedules:
        return None
    return min(schedules, key=lambda s: (s[0], -(s[1].hours(1) if s[1] else 1e9)))


def _warehouse_hours(auto_stop: float, schedule: tuple[int, Weekly | None] | None, hours: float) -> tuple[float, str]:
    """Hours a month the SQL warehouse runs because of its alerts, and why. A warehouse stops after
    `auto_stop` minutes without a running query (Warehouses API `auto_stop_mins`,
    docs.databricks.com/api/workspace/warehouses/create); each alert evaluation runs its query on it,
    starting it if stopped. Alerts every `interval` <= `auto_stop` minutes keep it up while they are
    scheduled, plus the idle delay after the day's last evaluation; longer intervals leave it up at least
    `auto_stop` of every `interval` minutes (a floor: start-up and query time not counted)."""
    if schedule is None:
        return 0.0, "no SQL alerts: it runs only when someone queries it (not inventoried)"
    interval, weekly = schedule
    scheduled = hours if weekly is None else weekly.hours(hours)
    when = f"{hours:g} h" if weekly is None else f"{scheduled:,.1f} h ({weekly.describe()}, the alerts' hours)"
    if auto_stop == 0 or interval <= auto_stop:
        tail = 0.0 if weekly is None else weekly.days_per_month(hours) * max(0.0, auto_stop - interval) / 60
        why = f"kept up by the SQL alerts every {interval} min, auto-stop {auto_stop:g} min"
        return scheduled + tail, f"{when}{' + the idle delay after each day' if tail else ''}: {why}"
    share = auto_stop / interval
    return scheduled * share, (
        f"{when} x {auto_stop:g}/{interval}: each alert run every {interval} min starts it, it stops after "
        f"{auto_stop:g} idle min (a floor)"
    )


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
    window = run_window(plan)
    geo_secondary = bool(plan.of_type("azure-native:sql:FailoverGroup"))
    for db in plan.of_type("azure-native:sql:Database"):
        sku = db.inputs.get("sku") or {}
        serverless = "_S_" in str(sku.get("name", ""))
        vcores = float((db.inputs.get("minCapacity") if serverless else sku.get("capacity")) or 0)
        meter = f"sql.{_slug(str(sku.get('tier', '')))}.{_slug(str(sku.get('family', 'Gen5')))}.vcore-hour"
        pause = db.inputs.get("autoPauseDelay")
        db_hours, basis = hours, f"{vcores:g} vCores x {hours:g} h"
        if serverless and window is not None and pause not in (None, -1):
            # The gold job writes to it only while the jobs run; it pauses `pause` minutes after the window
            # closes (learn.microsoft.com/azure/azure-sql/database/serverless-tier-overview: paused, compute
            # is not billed) and resumes on the next connection.
            db_hours = window.hours(hours) + window.days_per_month(hours) * float(pause) / 60
            basis = (
                f"{vcores:g} vCores x {db_hours:,.1f} h (run window {window.describe()} + {float(pause):g}-min "
                "auto-pause delay; paused otherwise unless a reader connects)"
            )
        if serverless:
            basis += " (serverless minimum: a floor while active)"
        lines.append(Line(meter, db.name, vcores * db_hours, basis))
        if geo_secondary:
            lines.append(Line(meter, f"{db.name} (geo-secondary)", vcores * db_hours, basis + ", failover group"))
    for fw in plan.of_type("azure-native:network:AzureFirewall"):
        tier = str((fw.inputs.get("sku") or {}).get("tier", "Standard"))
        lines.append(Line(f"firewall.{tier.lower()}.deployment-hour", fw.name, hours, f"1 x {hours:g} h"))
    endpoints = plan.of_type("azure-native:network:PrivateEndpoint")
    if endpoints:
        n = len(endpoints)
        lines.append(Line("privatelink.endpoint-hour", f"{n} private endpoints", n * hours, f"{n} x {hours:g} h"))
    job_hours = hours if window is None else window.hours(hours)
    job_when = f"{hours:g} h" if window is None else f"{job_hours:,.1f} h (run window {window.describe()})"
    for job in plan.of_type(JOB):
        if not job.inputs.get("continuous"):
            continue
        for cluster in job.inputs.get("jobClusters") or []:
            new = cluster.get("newCluster") or {}
            node = str(new.get("nodeTypeId", "")).lower()
            scale = new.get("autoscale") or {}
            workers = float((scale.get("minWorkers") if scale else new.get("numWorkers")) or 0)
            nodes = workers + 1  # the driver
            basis = f"({workers:g} workers{' minimum' if scale else ''} + driver) x {job_when}"
            lines.append(Line(f"vm.{node}.hour", job.name, nodes * job_hours, basis))
            lines.append(Line(f"databricks.jobs.{node}.node-hour", job.name, nodes * job_hours, basis))
    for cluster in plan.of_type(KUSTO_CLUSTER):
        sku = cluster.inputs.get("sku") or {}
        instances = float(sku.get("capacity") or 1)
        # Billed per instance hour while running; auto-stop (hotPath.autoStop) stops only an idle cluster,
        # and the data connection ingests continuously, so the month is counted whole.
        lines.append(
            Line(
                f"kusto.{_slug(str(sku.get('name', '')))}.instance-hour",
                cluster.name,
                instances * hours,
                f"{instances:g} instance(s) x {hours:g} h",
            )
        )
    schedule = alert_schedule(plan)
    for wh in plan.of_type(WAREHOUSE):
        clusters = float(wh.inputs.get("minNumClusters") or 1)
        size = _slug(str(wh.inputs.get("clusterSize", "")))
        wh_hours, why = _warehouse_hours(float(wh.inputs.get("autoStopMins") or 0), schedule, hours)
        basis = f"{clusters:g} cluster(s) x {why}"
        lines.append(Line(f"databricks.sql-pro.{size}.cluster-hour", wh.name, clusters * wh_hours, basis))
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
        if est.events_per_month:
            floor = est.priced_total / (est.events_per_month / 1e6)
            lines.append(f"    ${floor:,.4f} per million events from the priced lines alone (a lower bound)")
    else:
        verdict = "within" if per_million <= SEED_TARGET_PER_MILLION else "above"
        lines.append(
            f"  cost per million events: ${per_million:,.3f} at {est.events_per_month / 1e6:,.0f} M events a month, "
            f"{verdict} seed 001's ${SEED_TARGET_PER_MILLION}"
        )
    return lines
