"""Write the Power BI data source file (`.pbids`) for a stack's gold database.

The stack exports the server FQDN and database name (and the whole document as
`powerBiDataSource`); this tool turns any of the places those live into a file
an analyst double-clicks:

    # from a deployed stack
    pulumi stack output --json --stack prod | python tools/write_pbids.py - -o rta-gold-prod.pbids
    # from the offline preview's plan (python -m offline.preview --stack prod writes out/plan-prod.json)
    python tools/write_pbids.py out/plan-prod.json -o rta-gold-prod.pbids
    # or run the stack program offline right here
    python tools/write_pbids.py --stack dev

The file holds the server and database only: Power BI asks the analyst to sign
in with Microsoft Entra ID (the server accepts nothing else).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from components.power_bi import READ_ONLY_OPTION, pbids_document, validate_pbids  # noqa: E402

SERVER_OUTPUT = "sqlServerFqdn"
DATABASE_OUTPUT = "sqlDatabaseName"
PBIDS_OUTPUT = "powerBiDataSource"
UNKNOWN_MARKERS = ("(known after apply)", "[secret]", "04da6b54-80e4-46f7-96ec-b56ff0331ba9")


class PbidsError(Exception):
    pass


def stack_outputs(document: Any) -> dict[str, Any]:
    """Stack outputs from `pulumi stack output --json` (a flat map) or an offline plan (its `outputs`)."""
    if not isinstance(document, dict):
        raise PbidsError("expected a JSON object (stack outputs or an offline plan)")
    if "resources" in document and isinstance(document.get("outputs"), dict):
        return document["outputs"]
    return document


def pbids_from_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    server, database = outputs.get(SERVER_OUTPUT), outputs.get(DATABASE_OUTPUT)
    missing = [k for k, v in ((SERVER_OUTPUT, server), (DATABASE_OUTPUT, database)) if not v]
    if missing:
        raise PbidsError(f"the stack has no {' / '.join(missing)} output: is rta-platform:sql configured?")
    for key, value in ((SERVER_OUTPUT, server), (DATABASE_OUTPUT, database)):
        if not isinstance(value, str) or value in UNKNOWN_MARKERS:
            raise PbidsError(f"output {key} is not known yet ({value!r}); run after `pulumi up` or from a preview plan")
    assert isinstance(server, str) and isinstance(database, str)
    # The stack's own .pbids knows whether the database has a readable secondary (read intent).
    stack_document = outputs.get(PBIDS_OUTPUT)
    read_only = False
    if isinstance(stack_document, str):
        try:
            options = json.loads(stack_document)["connections"][0].get("options") or {}
            read_only = options.get(READ_ONLY_OPTION) is True
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise PbidsError(f"output {PBIDS_OUTPUT} is not a .pbids document") from None
    document = pbids_document(server, database, read_only_replica=read_only)
    problems = validate_pbids(document)
    if problems:  # pragma: no cover - pbids_document and validate_pbids share one definition
        raise PbidsError("; ".join(problems))
    return document


def _read(source: str, stdin: TextIO) -> Any:
    text = stdin.read() if source == "-" else Path(source).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PbidsError(f"{source}: not JSON ({exc.msg})") from None


def main(argv: list[str] | None = None, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("source", nargs="?", help="stack outputs JSON or offline plan JSON; '-' reads stdin")
    source.add_argument("--stack", help="run the stack program offline (mock engine) and use its outputs")
    parser.add_argument("-o", "--output", type=Path, help="where to write the .pbids (default: rta-gold-<stack>.pbids)")
    args = parser.parse_args(argv)
    try:
        if args.stack:
            from offline.engine import run_stack

            outputs, stack = run_stack(args.stack, preview=True).outputs, args.stack
        else:
            document = _read(args.source, stdin)
            outputs = stack_outputs(document)
            stack = document.get("stack", "stack") if isinstance(document, dict) else "stack"
        pbids = pbids_from_outputs(outputs)
    except PbidsError as exc:
        print(f"error: {exc}", file=out)
        return 2
    target = args.output or Path(f"rta-gold-{stack}.pbids")
    target.write_text(json.dumps(pbids, indent=2) + "\n")
    address = pbids["connections"][0]["details"]["address"]
    print(f"wrote {target}: {address['server']} / {address['database']} (DirectQuery, sign in with Entra ID)", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
