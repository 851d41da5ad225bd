"""Offline preview: what `pulumi up` would create for a stack, with no CLI and no cloud.

    python -m offline.preview --stack dev

Runs the real `__main__.py` under the mock engine, prints the resource tree
under its components, counts by type and the stack outputs, evaluates the
policy pack, and writes the full plan as JSON. Exit codes: 0 ok, 1 mandatory
policy violation, 2 invalid stack config or program error.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from offline.engine import REPO_ROOT, StackProgramError, list_stacks, run_stack
from offline.plan import Plan, PlannedResource

EXIT_OK, EXIT_POLICY, EXIT_CONFIG = 0, 1, 2


def _label(resource: PlannedResource) -> str:
    kind = resource.type if resource.custom else f"[{resource.type.removeprefix('rta:platform:')}]"
    return f"{kind}  {resource.name}"


def render_tree(plan: Plan, out: TextIO) -> None:
    children: dict[str | None, list[PlannedResource]] = {}
    urns = {r.urn for r in plan.resources}
    for r in plan.resources:
        parent = r.parent if r.parent in urns else None
        children.setdefault(parent, []).append(r)

    def walk(parent: str | None, prefix: str) -> None:
        kids = children.get(parent, [])
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            out.write(f"{prefix}{'└─ ' if last else '├─ '}{_label(r)}\n")
            walk(r.urn, prefix + ("   " if last else "│  "))

    out.write(f"{plan.project}-{plan.stack} (pulumi:pulumi:Stack)\n")
    walk(None, "")


def render_counts(plan: Plan, out: TextIO) -> None:
    counts = Counter(r.type for r in plan.resources if r.custom)
    components = sum(1 for r in plan.resources if not r.custom)
    out.write(f"\n{sum(counts.values())} resources to create in {components} components:\n")
    width = max((len(t) for t in counts), default=0)
    for type_, n in sorted(counts.items()):
        out.write(f"  {type_:<{width}}  {n}\n")


def render_outputs(plan: Plan, out: TextIO) -> None:
    out.write("\nOutputs:\n")
    for key in sorted(plan.outputs):
        out.write(f"  {key}: {plan.outputs[key]}\n")


def render_secrets(plan: Plan, out: TextIO) -> None:
    """Each secret a real `pulumi up` needs and the stack file does not hold, with the command that sets it."""
    from stack_config.secrets import describe

    if not plan.secret_stand_ins:
        return
    out.write(f"\nSecrets a real `pulumi up` needs (not in Pulumi.{plan.stack}.yaml; offline stand-ins used):\n")
    for secret in map(describe, plan.secret_stand_ins):
        out.write(f"  {secret.key}: {secret.why}\n    {secret.set_command(plan.stack)}\n")


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    stacks = list_stacks()
    parser = argparse.ArgumentParser(prog="python -m offline.preview", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help=f"stack to evaluate (one of: {', '.join(stacks)}); default dev")
    parser.add_argument(
        "--up", action="store_true", help="evaluate as `pulumi up` (computed outputs known) instead of a first preview"
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="where to write the full plan (default: out/plan-<stack>.json)"
    )
    parser.add_argument(
        "--policy-config",
        type=Path,
        default=None,
        help="policy-pack config file (default: policies/config/<environment>.json)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value for this run, e.g. 'rta-platform:lock={\"enabled\": false}'",
    )
    parser.add_argument("--no-policies", action="store_true", help="skip the policy pack")
    parser.add_argument("--quiet", action="store_true", help="print counts, outputs and violations, not the tree")
    args = parser.parse_args(argv)

    if args.stack not in stacks:
        out.write(f"error: unknown stack {args.stack!r}; known stacks: {', '.join(stacks)}\n")
        return EXIT_CONFIG
    overrides: dict[str, object] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or ":" not in key:
            out.write(f"error: --set expects NAMESPACE:KEY=VALUE, got {item!r}\n")
            return EXIT_CONFIG
        overrides[key] = value
    try:
        plan = run_stack(args.stack, preview=not args.up, config_overrides=overrides)
    except StackProgramError as exc:
        out.write(f"error: {exc.cause}\n")
        return EXIT_CONFIG

    out.write(f"Previewing stack {args.stack!r} offline ({'up' if args.up else 'first preview'} mode)\n\n")
    if not args.quiet:
        render_tree(plan, out)
    render_counts(plan, out)
    render_outputs(plan, out)
    render_secrets(plan, out)
    json_path = args.json or REPO_ROOT / "out" / f"plan-{args.stack}.json"
    plan.write(json_path)
    out.write(f"\nFull plan written to {json_path}\n")

    if args.no_policies:
        return EXIT_OK
    from offline import policy_runner  # the pack is only imported when it is used

    policy_config = args.policy_config or policy_runner.default_config_for(plan)
    try:
        report = policy_runner.evaluate(plan, policy_config)
    except policy_runner.PolicyConfigError as exc:
        out.write(f"error: {exc}\n")
        return EXIT_CONFIG
    policy_runner.print_report(report, out)
    return EXIT_POLICY if report.has_mandatory_violations else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
