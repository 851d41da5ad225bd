"""Benchmark: how long the policy pack takes to judge the prod stack, as the engine would run it.

    python benchmarks/bench_policies.py [--stack prod] [--runs 7] [--plan out/plan-prod.json]

The stack program runs once (first-preview and up plans); then the pack is
evaluated `--runs` times on each through the offline runner (Configure,
Remediate + Analyze per resource, AnalyzeStack), with the stack's own config.
Baseline, measured in the same run: the same requests with every policy
disabled, i.e. what the SDK's servicer and the protobuf plumbing cost before a
single check runs. Also timed: the 5 slowest policies called directly. Prints medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "policies"))

from offline import policy_runner  # noqa: E402
from offline.plan import Plan  # noqa: E402


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm caches (imports, the servicer, GetAnalyzerInfo)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def evaluate_each(policy: Any, resources: list[Any]) -> None:
    """A resource policy's check of every resource."""
    for r in resources:
        policy.evaluate(r)


def per_policy(plan: Plan, runs: int) -> list[tuple[float, str]]:
    """Each policy's own check over the plan, called directly (no servicer), slowest first."""
    import zero_trust
    from zero_trust._core import Graph, Node, Res, ZeroTrustResourcePolicy, plain

    resources = [Res(r.type, r.name, r.urn, plain(r.inputs)) for r in plan.resources]

    def edges(r: object) -> SimpleNamespace:
        """What Node reads of the SDK's PolicyResource: dependency edges as objects with a `urn`."""
        urn = lambda u: SimpleNamespace(urn=u)  # noqa: E731
        return SimpleNamespace(
            dependencies=[urn(u) for u in r.dependencies],  # type: ignore[attr-defined]
            property_dependencies={k: [urn(u) for u in v] for k, v in r.property_dependencies.items()},  # type: ignore[attr-defined]
        )

    graph = Graph(Node(r.type, r.name, r.urn, {**r.inputs, **r.outputs}, r.parent, edges(r)) for r in plan.resources)
    timings = []
    for policy in zero_trust.ALL_POLICIES:
        if isinstance(policy, ZeroTrustResourcePolicy):
            t = median_seconds(partial(evaluate_each, policy, resources), runs)
        else:
            t = median_seconds(partial(policy.evaluate, graph), runs)
        timings.append((t, policy.name))
    return sorted(timings, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plan", type=Path, help="a recorded plan JSON instead of running the stack program")
    args = parser.parse_args()

    if args.plan:
        plans = {"recorded": Plan.read(args.plan)}
    else:
        from offline.engine import run_stack

        plans = {"first preview": run_stack(args.stack, preview=True), "up": run_stack(args.stack, preview=False)}
    print(f"policy pack on stack {args.stack!r}, median of {args.runs} runs")
    for label, plan in plans.items():
        config = policy_runner.default_config_for(plan)
        report = policy_runner.evaluate(plan, config)
        full = median_seconds(partial(policy_runner.evaluate, plan, config), args.runs)
        base = median_seconds(partial(policy_runner.evaluate, plan, {"all": "disabled"}), args.runs)
        n = len(plan.resources)
        print(f"  {label:<13}: {n} resources, {len(report.levels)} policies ({config.name})")
        print(f"    full evaluation      : {full * 1000:8.1f} ms  ({full / n * 1000:.2f} ms per resource)")
        print(f"    baseline (disabled)  : {base * 1000:8.1f} ms  (servicer and protobuf plumbing only)")
        print(f"    enabled policies     : {(full - base) * 1000:8.1f} ms  ({full / base:.2f}x the baseline)")
        print(
            f"    verdict              : {len(report.mandatory)} mandatory, {len(report.advisory)} advisory violations"
        )
    plan = plans.get("up") or next(iter(plans.values()))
    timings = per_policy(plan, args.runs)
    total = sum(t for t, _ in timings)
    print(f"  all {len(timings)} checks called directly (no servicer): {total * 1000:.1f} ms in total; the rest of a")
    print("  full evaluation is the SDK's per-policy loop (a PolicyResource per resource and policy; the")
    print("  runner decodes and wraps each resource's properties once: offline/policy_runner.py). Slowest checks:")
    for t, name in timings[:5]:
        print(f"    {name:<48} {t * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
