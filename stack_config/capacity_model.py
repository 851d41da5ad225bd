"""The capacity model: what a declared load needs, and whether a stack has it. Pure functions.

Formulas (docs/capacity.md carries the same, with the sources):

* design load: `design_eps = peak_eps x (1 + headroom)`, `design_MBps = design_eps x event_bytes / 10^6`
  (a megabyte is counted as 10^6 bytes, the smaller unit, so the MB/s needed is never understated);
  every "needed" below is the exact quotient; the configured whole number must be at least that;
* Event Hubs Standard: `TUs = max(design_MBps / 1, design_eps / 1000)`, at most 40;
* Event Hubs Premium: `PUs = design_MBps / 5`, at most 16;
* Event Hubs Dedicated: `CUs = max(design_MBps / 100, design_eps / 100,000)`, at most 20;
* Confluent Dedicated: `CKUs = design_MBps / 60`; MULTI_ZONE clusters take at least 2;
* job clusters, per stage s: `workers_s = design_eps / (per_core_eps_s x vCPUs per worker)` (max workers),
  with `per_core_eps_s` this repository's own streaming benchmark figure (`benchmarks/streaming_per_core.json`);
  the model proposes `ceil(workers_s)` (at least 2, at most the job policy's cap) and `databricks.compute`
  may override it (`stage_shapes`);
* Kafka consumer parallelism: the bronze stream reads each partition with one Spark task, so
  `partitions >= ceil(design_eps / per_core_eps_bronze)`, and bronze uses at most `partitions` cores;
* latency: the SLO is split evenly over the three stages, `budget = p99 / 3`; an event waits at most one
  trigger interval and one batch per stage, so `trigger interval = floor(budget / 2)` seconds (none, back to
  back, when that is under a second), and `maxOffsetsPerTrigger = ceil(design_eps x budget / 2)`: a batch
  at design rate then takes at most half the budget on a cluster sized as above.

Service figures and where they come from:

* Event Hubs throughput unit: ingress 1 MB/s or 1,000 events/s, whichever first (Microsoft, "Scaling with
  Event Hubs", learn.microsoft.com/azure/event-hubs/event-hubs-scalability#throughput-units); at most 40 TUs
  per namespace (same page; the tier table in event-hubs-quotas says 40 for Basic and Standard).
* Event Hubs processing unit: "one PU and one event hub (100 partitions) can approximately offer core
  capacity of ~5-10 MB/s ingress" (same page, #processing-units); the model takes the low end. Microsoft
  sets no per-PU throttle ("No limits per PU", event-hubs-quotas), so this is a planning figure, not a limit.
  At most 16 PUs; 100 partitions per event hub and 200 per PU per namespace (event-hubs-quotas).
* Event Hubs capacity unit: Microsoft's dedicated-cluster benchmark (4 CUs, batches of 100 x 1 KB events,
  400 MB/s and 400,000 events/s, "TUs per CU: 100"; includes/event-hubs-dedicated-clusters-faq.md in
  MicrosoftDocs/azure-docs), so one CU counts as 100 TUs; at most 20 CUs; 1,024 partitions per event hub.
* Confluent Dedicated: 9,120 MBps ingress at the 152-CKU ceiling (docs.confluent.io, "Cluster limit
  comparison", cluster-types), i.e. 60 MBps per CKU; 100,000 partitions per cluster (same table).
* Spark's Kafka source maps each topic partition to one Spark partition unless `minPartitions` asks for
  more (spark.apache.org, Structured Streaming + Kafka Integration Guide, option `minPartitions`).
* Azure VM vCPUs from the size name: `[family][sub-family]*[# of vCPUs]...` (learn.microsoft.com/azure/
  virtual-machines/vm-naming-conventions); only v3 and later sizes follow it, so older ones are refused.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stack_config.model import StackConfig

STAGES = ("bronze", "silver", "gold")

# The one place the repository's measured streaming figure lives; benchmarks/bench_streaming.py --record writes it.
BENCHMARK_FIGURE = Path(__file__).resolve().parent.parent / "benchmarks" / "streaming_per_core.json"

MB = 1_000_000

# Event Hubs Standard throughput unit (ingress) and its ceiling.
TU_MB_PER_S = 1.0
TU_EVENTS_PER_S = 1_000
MAX_TUS = 40
# Event Hubs Premium processing unit: the low end of Microsoft's ~5-10 MB/s, and the sizes the config accepts.
PU_MB_PER_S = 5.0
PU_SIZES = (1, 2, 4, 8, 16)
PREMIUM_PARTITIONS_PER_HUB = 100
PREMIUM_PARTITIONS_PER_PU = 200
# Event Hubs Dedicated capacity unit: 100 TUs' worth, from Microsoft's cluster benchmark.
CU_MB_PER_S = 100.0
CU_EVENTS_PER_S = 100_000
MAX_CUS = 20
DEDICATED_PARTITIONS_PER_HUB = 1024
STANDARD_PARTITIONS_PER_HUB = 32
# Confluent Dedicated: 9,120 MBps / 152 CKUs.
CKU_MB_PER_S = 60.0
CONFLUENT_DEDICATED_PARTITIONS = 100_000

_VM_SIZE = re.compile(r"^Standard_[A-Z]{1,2}(\d{1,3})[a-z]*_v([3-9])$")


@dataclass(frozen=True)
class BenchmarkFigure:
    """The streaming benchmark's sustained events/s per core, per stage, and how it was measured."""

    per_core: dict[str, float]
    cores: int
    command: str
    measured: str
    machine: str

    def rate(self, stage: str) -> float:
        return self.per_core[stage]


@functools.cache
def benchmark_figure(path: Path = BENCHMARK_FIGURE) -> BenchmarkFigure:
    data = json.loads(path.read_text())
    cores = int(data["cores"])
    per_core = {stage: float(data["events_per_second"][stage]) / cores for stage in STAGES}
    return BenchmarkFigure(per_core, cores, data["command"], data["measured"], data["machine"])


@dataclass(frozen=True)
class Load:
    sustained_eps: int
    peak_eps: int
    event_bytes: int
    headroom_percent: int
    p99_seconds: float

    @property
    def design_eps(self) -> float:
        return self.peak_eps * (1 + self.headroom_percent / 100)

    @property
    def design_mb_per_s(self) -> float:
        return self.design_eps * self.event_bytes / MB

    def describe(self) -> str:
        return (
            f"capacity.peakEventsPerSecond {self.peak_eps:,} x (1 + headroomPercent {self.headroom_percent} %) = "
            f"{self.design_eps:,.0f} events/s of {self.event_bytes} B = {self.design_mb_per_s:,.1f} MB/s"
        )


@dataclass(frozen=True)
class Check:
    """One resource: what the load needs, what the stack has, and why."""

    resource: str
    key: str  # the config key that sets `configured`
    unit: str
    needed: float
    configured: float
    basis: str
    # Set when no setting of this kind can carry the load (the tier's ceiling is below what is needed).
    beyond: str | None = None

    @property
    def ok(self) -> bool:
        return self.configured >= self.needed and self.beyond is None

    @property
    def headroom_percent(self) -> float:
        return (self.configured / self.needed - 1) * 100 if self.needed else math.inf

    def problem(self) -> str:
        text = (
            f"{self.key} {_num(self.configured)} {self.unit} is too small for the declared load: {self.resource} "
            f"needs {_num(self.needed)} {self.unit} ({self.basis})"
        )
        return f"{text}; {self.beyond}" if self.beyond else text


@dataclass(frozen=True)
class StageShape:
    """A stage's job cluster: worker node type and autoscaling bounds, as proposed or configured."""

    stage: str
    node_type: str
    min_workers: int
    max_workers: int
    key: str  # the config key that sets (or caps) its max workers


@dataclass(frozen=True)
class Triggers:
    """Micro-batch settings derived from the latency objective."""

    stage_budget_seconds: float
    interval_seconds: int | None  # None: back to back
    max_offsets_per_trigger: int

    @property
    def interval(self) -> str | None:
        return None if self.interval_seconds is None else f"{self.interval_seconds} seconds"


@dataclass(frozen=True)
class Report:
    load: Load
    checks: tuple[Check, ...]
    triggers: Triggers
    problems: tuple[str, ...]  # what cannot be checked (an unreadable node type), besides failed checks

    @property
    def failures(self) -> list[str]:
        return [*self.problems, *(c.problem() for c in self.checks if not c.ok)]


def vcpus(node_type: str) -> int | None:
    """vCPUs of an Azure VM size from its name (v3 and later sizes), or None."""
    match = _VM_SIZE.match(node_type)
    return int(match.group(1)) if match else None


def _ceil(x: float) -> int:
    return max(1, math.ceil(round(x, 9)))


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def event_hubs_checks(sku: str, capacity: int, partitions: int, load: Load, bronze_cores: int) -> list[Check]:
    """Units and partitions of the trades hub's namespace against the load."""
    mbps, eps = load.design_mb_per_s, load.design_eps
    checks: list[Check] = []
    if sku == "Standard":
        need = max(mbps / TU_MB_PER_S, eps / TU_EVENTS_PER_S)
        beyond = f"Standard stops at {MAX_TUS} TUs: use sku Premium or Dedicated" if _ceil(need) > MAX_TUS else None
        checks.append(
            Check(
                "Event Hubs Standard throughput units",
                "eventHubs.capacity",
                "TUs",
                need,
                capacity,
                f"{load.describe()}; a TU takes {TU_MB_PER_S:g} MB/s or {TU_EVENTS_PER_S:,} events/s",
                beyond,
            )
        )
        max_partitions = STANDARD_PARTITIONS_PER_HUB
    elif sku == "Premium":
        need = mbps / PU_MB_PER_S
        beyond = f"Premium stops at {PU_SIZES[-1]} PUs: use sku Dedicated" if need > PU_SIZES[-1] else None
        checks.append(
            Check(
                "Event Hubs Premium processing units",
                "eventHubs.capacity",
                "PUs",
                need,
                capacity,
                f"{load.describe()}; a PU takes ~{PU_MB_PER_S:g} MB/s (the low end of Microsoft's ~5-10 MB/s)",
                beyond,
            )
        )
        max_partitions = min(PREMIUM_PARTITIONS_PER_HUB, PREMIUM_PARTITIONS_PER_PU * capacity)
    else:
        need = max(mbps / CU_MB_PER_S, eps / CU_EVENTS_PER_S)
        beyond = f"a Dedicated cluster stops at {MAX_CUS} CUs" if need > MAX_CUS else None
        checks.append(
            Check(
                "Event Hubs Dedicated capacity units",
                "eventHubs.capacity",
                "CUs",
                need,
                capacity,
                f"{load.describe()}; a CU takes {CU_MB_PER_S:g} MB/s or {CU_EVENTS_PER_S:,} events/s "
                "(100 TUs, Microsoft's cluster benchmark)",
                beyond,
            )
        )
        max_partitions = DEDICATED_PARTITIONS_PER_HUB
    checks.append(_partition_check("eventHubs.hubs[trades].partitions", partitions, bronze_cores, max_partitions))
    return checks


def confluent_checks(ckus: int, availability: str, partitions: int, load: Load, bronze_cores: int) -> list[Check]:
    need = load.design_mb_per_s / CKU_MB_PER_S
    minimum = 2 if availability == "MULTI_ZONE" else 1
    return [
        Check(
            "Confluent Dedicated CKUs",
            "confluent.cluster.ckus",
            "CKUs",
            max(need, minimum),
            ckus,
            f"{load.describe()}; a CKU takes {CKU_MB_PER_S:g} MB/s ingress",
        ),
        _partition_check(
            "confluent.topics[trades].partitions", partitions, bronze_cores, CONFLUENT_DEDICATED_PARTITIONS
        ),
    ]


def _partition_check(key: str, partitions: int, bronze_cores: int, max_partitions: int) -> Check:
    beyond = (
        f"more than the {max_partitions} partitions the tier allows: add units or change tier"
        if bronze_cores > max_partitions
        else None
    )
    return Check(
        "bronze's Kafka consumer parallelism (one Spark task per partition)",
        key,
        "partitions",
        bronze_cores,
        partitions,
        f"bronze needs {bronze_cores} cores at the design load, and reads each partition with one task",
        beyond,
    )


def stage_cores_needed(stage: str, load: Load, figure: BenchmarkFigure) -> int:
    return _ceil(load.design_eps / figure.rate(stage))


def stage_checks(shapes: Sequence[StageShape], load: Load, figure: BenchmarkFigure) -> tuple[list[Check], list[str]]:
    checks: list[Check] = []
    problems: list[str] = []
    for shape in shapes:
        cores = vcpus(shape.node_type)
        if cores is None:
            problems.append(
                f"{shape.key}: the capacity model cannot read the vCPUs of node type {shape.node_type!r} "
                "(it reads them from Azure's size name, v3 sizes and later: docs/capacity.md)"
            )
            continue
        rate = figure.rate(shape.stage)
        need = load.design_eps / (rate * cores)
        checks.append(
            Check(
                f"{shape.stage} job cluster workers ({shape.node_type}, {cores} vCPUs)",
                shape.key,
                "workers",
                need,
                shape.max_workers,
                f"{load.describe()}; {rate:,.0f} events/s per core measured for {shape.stage} "
                f"(benchmarks/streaming_per_core.json)",
            )
        )
    return checks, problems


def triggers(load: Load) -> Triggers:
    budget = load.p99_seconds / len(STAGES)
    interval = math.floor(budget / 2)
    return Triggers(
        stage_budget_seconds=budget,
        interval_seconds=interval if interval >= 1 else None,
        max_offsets_per_trigger=_ceil(load.design_eps * budget / 2),
    )


def load_of(config: StackConfig) -> Load | None:
    c = config.capacity
    if c is None:
        return None
    return Load(
        c.sustained_events_per_second,
        c.peak_events_per_second,
        c.mean_event_bytes,
        c.headroom_percent,
        c.p99_latency_seconds,
    )


def stage_shapes(config: StackConfig, figure: BenchmarkFigure | None = None) -> list[StageShape]:
    """Each stage's job cluster: the model proposes, `databricks.compute.<stage>` overrides.

    Proposal, per stage: the job policy's first node type; max workers = the workers the design load needs
    (rounded up), at least 2 (Databricks autoscaling needs max > min), at most the policy's maxWorkers (a
    load beyond that is then refused, naming `databricks.clusterPolicy.maxWorkers`); min workers = the
    policy's minWorkers, below max. Without a declared load the policy's own bounds stand. An override of
    maxWorkers is checked against the load like the proposal (`stage_checks`), naming its own key.
    """
    db = config.databricks
    if db is None:
        return []
    policy = db.cluster_policy
    load = load_of(config)
    shapes = []
    for stage in STAGES:
        override = getattr(db.compute, stage)
        node = override.node_type or policy.node_types[0]
        cores = vcpus(node)
        if override.max_workers is not None:
            maximum, key = override.max_workers, f"databricks.compute.{stage}.maxWorkers"
        elif load is None or cores is None:
            maximum, key = policy.max_workers, "databricks.clusterPolicy.maxWorkers"
        else:
            rate = (figure or benchmark_figure()).rate(stage)
            wanted = max(2, _ceil(load.design_eps / (rate * cores)))
            maximum = min(wanted, policy.max_workers)
            key = (
                f"databricks.compute.{stage}.maxWorkers" if wanted <= maximum else "databricks.clusterPolicy.maxWorkers"
            )
        minimum = override.min_workers or max(1, min(policy.min_workers, maximum - 1))
        shapes.append(StageShape(stage, node, minimum, maximum, key))
    return shapes


def report(config: StackConfig, figure: BenchmarkFigure | None = None) -> Report | None:
    """The stack's capacity report, or None when it declares no load."""
    load = load_of(config)
    if load is None:
        return None
    figure = figure or benchmark_figure()
    bronze_cores = stage_cores_needed("bronze", load, figure)
    checks: list[Check] = []
    stream = config.ingestion.trades_stream
    if config.event_hubs is not None:
        eh = config.event_hubs
        hub = next((h for h in eh.hubs if h.name == stream), None)
        if hub is not None:
            checks += event_hubs_checks(eh.sku.value, eh.capacity, hub.partitions, load, bronze_cores)
    if config.confluent is not None:
        cc = config.confluent
        topic = next((t for t in cc.topics if t.name == stream), None)
        if topic is not None and cc.cluster.ckus is not None:
            checks += confluent_checks(
                cc.cluster.ckus, cc.cluster.availability.value, topic.partitions, load, bronze_cores
            )
    stage, problems = stage_checks(stage_shapes(config, figure), load, figure)
    return Report(load, tuple(checks + stage), triggers(load), tuple(problems))


def capacity_problems(config: StackConfig) -> list[str]:
    """The cross-section rule: a stack that declares a load must carry it; prod must declare one."""
    if config.capacity is None:
        return (
            ["capacity is required in prod (the load the stack is sized for: docs/capacity.md)"]
            if config.is_prod
            else []
        )
    result = report(config)
    return result.failures if result is not None else []


def summary(result: Report) -> dict[str, Any]:
    """The report as plain data: the stack output `capacity` (`pulumi stack output capacity`), which the
    offline preview prints with `render_table`, so the table is what the program computed."""
    t = result.triggers
    return {
        "load": result.load.describe(),
        "p99Seconds": result.load.p99_seconds,
        "checks": [
            {
                "resource": c.resource,
                "key": c.key,
                "unit": c.unit,
                "needed": round(c.needed, 2),
                "configured": c.configured,
                "ok": c.ok,
                # None: nothing is needed, so any setting has unbounded headroom (JSON has no infinity).
                "headroomPercent": round(c.headroom_percent, 1) if math.isfinite(c.headroom_percent) else None,
            }
            for c in result.checks
        ],
        "triggers": {
            "stageBudgetSeconds": round(t.stage_budget_seconds, 2),
            "interval": t.interval,
            "maxOffsetsPerTrigger": t.max_offsets_per_trigger,
        },
        "problems": list(result.problems),
    }


def render_table(table: Mapping[str, Any]) -> list[str]:
    """The preview's capacity table from `summary`: needed, configured, headroom per resource, then the triggers."""
    rows = [("resource", "key", "needed", "configured", "headroom")]
    for c in table["checks"]:
        headroom = c["headroomPercent"]
        shown = "NOT ENOUGH" if not c["ok"] else "unbounded" if headroom is None else f"{headroom:+,.0f} %"
        rows.append(
            (c["resource"], c["key"], f"{_num(c['needed'])} {c['unit']}", f"{_num(c['configured'])} {c['unit']}", shown)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [f"Capacity (stack_config/capacity_model.py, docs/capacity.md): {table['load']}"]
    lines += ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    t = table["triggers"]
    lines.append(
        f"  triggers: p99 {table['p99Seconds']:g} s over 3 stages = {t['stageBudgetSeconds']:.2f} s each; "
        f"interval {t['interval'] or 'back to back'}; bronze maxOffsetsPerTrigger {int(t['maxOffsetsPerTrigger']):,}"
    )
    lines += [f"  problem: {p}" for p in table["problems"]]
    return lines
