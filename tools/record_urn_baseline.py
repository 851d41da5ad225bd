"""Record (or deliberately update) the URN baseline that tests/test_urn_stability.py holds each stack to.

    python tools/record_urn_baseline.py --stack prod --reason "issue 31: the workspace moves into its own group"

The baseline is the set of URNs a deployed stack holds. Additions never need an
update: the test only asks that every baseline URN is still registered or
reached by an alias. Update it when a resource is removed or replaced on
purpose: the tool prints every URN the new plan would delete and refuses to
write unless `--reason` says why; the reason is kept in the file's history, so
the review sees the deletion and its justification together. Re-recording
after additions (`--reason "adds ..."`) keeps the baseline current, so later
refactors are held to the new resources too. URNs kept only through aliases stay
in the baseline: stacks not yet updated still hold them.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from offline.engine import list_stacks, run_stack
from offline.urn_identity import (
    aliased_state_keys,
    baseline_path,
    baseline_states,
    kept_urns,
    lost_urns,
    read_baseline,
    write_baseline,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", action="append", choices=list_stacks(), help="stack(s) to record; default all")
    parser.add_argument("--reason", required=True, help="why the baseline changes (kept in the file's history)")
    args = parser.parse_args(argv)
    for stack in args.stack or list_stacks():
        plan = run_stack(stack, preview=True)
        history: list[dict[str, str]] = []
        lost: list[str] = []
        # Per older state (oldest first, the recorded "urns" last): its URNs the plan keeps only by alias.
        # States stay apart: a resource moved twice holds one old URN in each, never both at once.
        kept_states: list[list[str]] = []
        if baseline_path(stack).exists():
            old = read_baseline(stack)
            history = list(old.get("history", []))
            current = {r.urn for r in plan.resources}
            states = baseline_states(old)
            for key in [*aliased_state_keys(old), "urns"]:
                urns = states[key]
                lost += [u for u in lost_urns(plan, urns) if u not in lost]
                kept = sorted(u for u in kept_urns(plan, urns) if u not in current)
                if kept and kept not in kept_states:
                    kept_states.append(kept)
            renamed = {u for state in kept_states for u in state}
            print(f"{stack}: {len(lost)} baseline URN(s) deleted, {len(renamed)} kept through aliases")
            for urn in lost:
                print(f"  deleted: {urn}")
        history.append({"date": datetime.date.today().isoformat(), "reason": args.reason, "deleted": str(len(lost))})
        # Old URNs kept through aliases stay: a stack not yet updated still holds them.
        path = write_baseline(stack, (r.urn for r in plan.resources), history, aliased_states=kept_states)
        print(f"{stack}: {len(plan.resources)} URNs written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
