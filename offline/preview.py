"""Offline preview: what `pulumi up` would create for a stack, with no CLI and no cloud.

    python -m offline.preview --stack dev

Runs the real `__main__.py` under the mock engine, prints the resource tree
under its components, counts by type and the stack outputs, evaluates the
policy pack, and writes the full plan as JSON.

Exit codes (the first that applies wins):
  2  invalid stack file or config (or the program failed): nothing was planned;
  3  an apply-time rule or access path failed: Azure or Databricks would refuse
     the plan, or a promised data flow would not work (offline/apply_rules.py,
     offline/access_paths.py);
  1  a mandatory policy violation;
  4  command-line misuse (unknown option or stack, an unwritable --json path);
  0  clean.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # A short-lived command: the SDK imports and the run allocate ~360,000 long-lived objects, and the
    # cyclic collector's full passes over them cost a quarter of the preview's CPU (1 s of 4; +7 MiB
    # without them). Reference counting still frees everything acyclic; the process exits via os._exit.
    gc.disable()

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import NoReturn, TextIO

from offline import stack_file
from offline.engine import REPO_ROOT, StackProgramError, list_stacks, run_stack, stack_config_values
from offline.plan import Plan, PlannedResource
from stack_config import examples

EXIT_OK, EXIT_POLICY, EXIT_CONFIG, EXIT_APPLY, EXIT_USAGE = 0, 1, 2, 3, 4


class UsageError(Exception):
    """The command line is wrong (not the stack): its own exit code, never mistaken for a config error."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def _writable(path: Path) -> str | None:
    """Why the plan cannot be written to `path`, or None (checked before the run, which takes seconds)."""
    if path.is_dir():
        return f"{path} is a directory"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{path} is not writable"
    if path.parent.exists():
        existed = path.exists()
        try:
            with path.open("a"):
                pass
        except OSError as exc:
            return f"{path}: {exc.strerror or exc}"
        if not existed:
            path.unlink()
    return None


def render_examples(config: dict[str, str], secret_keys: list[str], out: TextIO) -> None:
    """The placeholders in the stack's config, marked: the preview passes, a real `pulumi up` refuses them."""
    parsed = {}
    for key, raw in config.items():
        if key in secret_keys:
            continue
        try:
            parsed[key] = json.loads(raw) if raw[:1] in "[{" else raw
        except ValueError:
            parsed[key] = raw
    found = examples.find_examples(parsed)
    if found:
        out.write(f"\nExample values ({len(found)}): fine offline, refused by a real `pulumi up` until replaced:\n")
        for path, kind in found:
            out.write(f"  {path}: {kind}\n")


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
        value = "(the capacity table below)" if key == "capacity" else plan.outputs[key]
        out.write(f"  {key}: {value}\n")


def render_secrets(plan: Plan, out: TextIO) -> None:
    """Each secret a real `pulumi up` needs and the stack file does not hold, with the command that sets it."""
    from stack_config.secrets import describe

    if not plan.secret_stand_ins:
        return
    out.write(f"\nSecrets a real `pulumi up` needs (not in Pulumi.{plan.stack}.yaml; offline stand-ins used):\n")
    for secret in map(describe, plan.secret_stand_ins):
        out.write(f"  {secret.key}: {secret.why}\n    {secret.set_command(plan.stack)}\n")


def render_capacity(plan: Plan, out: TextIO) -> None:
    """The capacity table the program computed (its `capacity` output, stack_config/capacity_model.py)."""
    from stack_config import capacity_model

    table = plan.outputs.get("capacity")
    if not isinstance(table, dict):
        out.write("\nCapacity: no `capacity` section, so no declared load to check (docs/capacity.md)\n")
        return
    out.write("\n" + "\n".join(capacity_model.render_table(table)) + "\n")


def render_cost(plan: Plan, config: dict[str, str], out: TextIO) -> None:
    """The estimated monthly cost from the plan in memory and the prices file (offline/cost.py)."""
    from offline import cost

    try:
        prices = cost.load_prices()
    except cost.PriceFileError as exc:
        out.write(f"\nEstimated monthly cost: {exc}\n")
        return
    estimate = cost.estimate(plan, prices, cost.sustained_load(config))
    out.write("\n" + "\n".join(cost.render(estimate, prices)) + "\n")


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, root: Path = REPO_ROOT) -> int:
    """The command; `root` is the project directory (tests point it at a copy holding a broken stack file)."""
    try:
        return _main(argv, out, root)
    except UsageError as exc:
        out.write(f"error: {exc}\n")
        return EXIT_USAGE


def _main(argv: list[str] | None, out: TextIO, root: Path) -> int:
    stacks = list_stacks(root)
    parser = _Parser(
        prog="python -m offline.preview",
        description=__doc__.splitlines()[0],
        epilog=__doc__[__doc__.index("Exit codes") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
        raise UsageError(f"unknown stack {args.stack!r}; known stacks: {', '.join(stacks)}")
    overrides: dict[str, object] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or ":" not in key:
            raise UsageError(f"--set expects NAMESPACE:KEY=VALUE, got {item[:80]!r}")
        if len(value) > stack_file.MAX_VALUE_BYTES:
            out.write(f"error: --set {key}: a {len(value):,}-character value is not config\n")
            return EXIT_CONFIG
        overrides[key] = value
    json_path = args.json or root / "out" / f"plan-{args.stack}.json"
    unwritable = _writable(json_path)
    if unwritable:
        raise UsageError(f"--json: cannot write the plan there: {unwritable}")
    try:
        plan = run_stack(args.stack, preview=not args.up, root=root, config_overrides=overrides)
    except stack_file.StackFileError as exc:
        out.write(f"error: {exc}\n")
        return EXIT_CONFIG
    except StackProgramError as exc:
        out.write(f"error: {exc.cause}\n")
        return EXIT_CONFIG

    out.write(f"Previewing stack {args.stack!r} offline ({'up' if args.up else 'first preview'} mode)\n\n")
    if not args.quiet:
        render_tree(plan, out)
    render_counts(plan, out)
    render_outputs(plan, out)
    render_secrets(plan, out)
    config, secret_keys = stack_config_values(args.stack, root)
    effective = {**config, **{k: str(v) for k, v in overrides.items()}}
    render_capacity(plan, out)
    render_cost(plan, effective, out)
    render_examples(effective, secret_keys, out)
    try:
        plan.write(json_path)
    except OSError as exc:
        raise UsageError(f"--json: cannot write the plan to {json_path}: {exc.strerror or exc}") from None
    out.write(f"\nFull plan written to {json_path}\n")

    from offline import access_paths, apply_rules

    index = apply_rules.PlanIndex(plan)
    apply_report = apply_rules.evaluate(plan, ix=index)
    apply_rules.print_report(apply_report, out)
    access_report = access_paths.evaluate(plan, ix=index)
    access_paths.print_report(access_report, out)
    apply_code = EXIT_APPLY if apply_report.has_errors or access_report.has_errors else EXIT_OK
    if args.no_policies:
        return apply_code
    from offline import policy_runner  # the pack is only imported when it is used

    policy_config = args.policy_config or policy_runner.default_config_for(plan)
    try:
        report = policy_runner.evaluate(plan, policy_config)
    except policy_runner.PolicyConfigError as exc:
        out.write(f"error: {exc}\n")
        return EXIT_CONFIG
    policy_runner.print_report(report, out)
    if apply_code:
        out.write(
            "The preview fails: Azure or Databricks would refuse the plan, or a promised data flow would not work "
            "(apply-time rules and access paths above).\n"
        )
        return apply_code
    return EXIT_POLICY if report.has_mandatory_violations else EXIT_OK


def _exit_now(code: int) -> None:
    """Leave without tearing down the interpreter: the run leaves ~360,000 objects (the SDK
    modules, the plan), and freeing them one by one costs half a second that nobody waits for.
    Every file the command writes is closed by then; only the standard streams need a flush."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())
