"""Publish the Power BI project (report/) to a workspace with Microsoft's fabric-cicd.

    pulumi stack output --json --stack prod > outputs.json
    POWERBI_WORKSPACE_ID=<guid> python tools/publish_report.py --environment prod --stack-outputs outputs.json

The workspace is POWERBI_WORKSPACE_ID (the deploy workflow's variable), or --workspace-id. The semantic
model's Server and Database parameters are replaced per environment through fabric-cicd's own parameter
file (find_replace), written next to a copy of report/ from the stack's outputs (`sqlServerFqdn`,
`sqlDatabaseName`); fabric-cicd's FabricWorkspace + publish_all_items then create or update the
SemanticModel and the Report (fabric_cicd/publish.py; item types from fabric_cicd/constants.py ItemType).

Authentication is tools/ci_credential.py: on GitHub Actions the job's OIDC token exchanged for the
deployment identity, elsewhere DefaultAzureCredential. The identity needs Contributor on the workspace,
and the tenant setting "Service principals can use Fabric APIs" must be on
(https://learn.microsoft.com/rest/api/fabric/articles/identity-support).

Sharing the published report as an app is not done here (docs/hot-path.md, "Sharing as an app"):
fabric-cicd 1.4.0 has no app item type and no app call, and the Power BI REST API's Apps group only reads.

Bad input (no workspace id, one that is not a GUID, outputs without SQL, no credential) and every
fabric-cicd error end the command with one `error:` line and exit code 2 or 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORT_DIR = ROOT / "report"
ITEM_TYPES = ["SemanticModel", "Report"]
WORKSPACE_ENV = "POWERBI_WORKSPACE_ID"
GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SERVER_PLACEHOLDER = "rta-sql-server.database.windows.net"
DATABASE_PLACEHOLDER = 'expression Database = "gold"'


def parameter_file(environment: str, server: str, database: str) -> str:
    """fabric-cicd's parameter.yml: the model's placeholders replaced for this environment."""
    import yaml

    document = {
        "find_replace": [
            {"find_value": SERVER_PLACEHOLDER, "replace_value": {environment: server}, "item_type": "SemanticModel"},
            {
                "find_value": DATABASE_PLACEHOLDER,
                "replace_value": {environment: f'expression Database = "{database}"'},
                "item_type": "SemanticModel",
            },
        ]
    }
    return yaml.safe_dump(document, sort_keys=False)


def prepare(target: Path, environment: str, server: str, database: str) -> Path:
    """A copy of report/ with the environment's parameter.yml, ready for fabric-cicd."""
    shutil.copytree(REPORT_DIR, target, dirs_exist_ok=True)
    (target / "parameter.yml").write_text(parameter_file(environment, server, database), encoding="utf-8")
    return target


class PublishError(RuntimeError):
    """Input the publish cannot go ahead with; the message names it."""


def workspace_id_from(argument: str | None, environ: Mapping[str, str] | None = None) -> str:
    """--workspace-id, else POWERBI_WORKSPACE_ID; a GUID either way."""
    env = os.environ if environ is None else environ
    value = (argument or env.get(WORKSPACE_ENV, "")).strip()
    where = "--workspace-id" if argument else WORKSPACE_ENV
    if not value:
        raise PublishError(f"no workspace id: set {WORKSPACE_ENV} (the deploy workflow's variable) or --workspace-id")
    if not GUID_RE.fullmatch(value):
        raise PublishError(f"{where}: {value!r} is not a workspace id (a GUID, from the workspace's URL)")
    return value


def outputs_from(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        outputs = json.loads(text)
    except (OSError, ValueError) as exc:
        raise PublishError(f"--stack-outputs {path}: cannot read `pulumi stack output --json` from it: {exc}") from exc
    if not isinstance(outputs, dict):
        raise PublishError(f"--stack-outputs {path}: not a JSON object of stack outputs")
    missing = [k for k in ("sqlServerFqdn", "sqlDatabaseName") if not outputs.get(k)]
    if missing:
        raise PublishError(f"the stack outputs in {path} have no {', '.join(missing)} (is sql configured?)")
    return outputs


def publish(repository: Path, workspace_id: str, environment: str, credential: Any) -> None:
    """fabric-cicd publishes the model and the report in `repository` to the workspace."""
    from fabric_cicd import FabricWorkspace, publish_all_items

    workspace = FabricWorkspace(
        workspace_id=workspace_id,
        environment=environment,
        repository_directory=str(repository),
        item_type_in_scope=ITEM_TYPES,
        token_credential=credential,
    )
    publish_all_items(workspace)


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--environment", required=True, help="the stack's environment (dev, prod, ...)")
    parser.add_argument("--workspace-id", help=f"the Power BI / Fabric workspace id (default: ${WORKSPACE_ENV})")
    parser.add_argument("--stack-outputs", required=True, help="`pulumi stack output --json` file, or - for stdin")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = argument_parser().parse_args(argv)

    from ci_credential import CredentialError, ci_credential  # tools/ci_credential.py (tools/ is sys.path[0])
    from fabric_cicd._common._exceptions import BaseCustomError  # the base of every error fabric-cicd raises

    try:
        workspace_id = workspace_id_from(args.workspace_id)
        outputs = outputs_from(args.stack_outputs)
        credential = ci_credential()
    except (PublishError, CredentialError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="rta-report-") as tmp:
        repository = prepare(
            Path(tmp) / "report", args.environment, outputs["sqlServerFqdn"], outputs["sqlDatabaseName"]
        )
        try:
            publish(repository, workspace_id, args.environment, credential)
        except BaseCustomError as exc:  # a token it could not get, a refused item, a failed call
            print(f"error: fabric-cicd could not publish report/ to workspace {workspace_id}: {exc}", file=sys.stderr)
            return 1
    print(f"published {', '.join(ITEM_TYPES)} of report/ to workspace {workspace_id} ({args.environment})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
