"""Publish the Power BI project (report/) to a workspace with Microsoft's fabric-cicd.

    pulumi stack output --json --stack prod > outputs.json
    python tools/publish_report.py --environment prod --workspace-id <guid> --stack-outputs outputs.json

The semantic model's Server and Database parameters are replaced per environment
through fabric-cicd's own parameter file (find_replace), written next to a copy of
report/ from the stack's outputs (`sqlServerFqdn`, `sqlDatabaseName`). Authentication
is the ambient Entra ID credential (the deploy workflow's OIDC login); the identity
needs Contributor on the workspace. Sharing the published report as an app is a
one-time step in the Power BI service (docs/hot-path.md): fabric-cicd has no app API.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORT_DIR = ROOT / "report"
ITEM_TYPES = ["SemanticModel", "Report"]
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


def outputs_from(path: str) -> dict[str, Any]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    outputs = json.loads(text)
    missing = [k for k in ("sqlServerFqdn", "sqlDatabaseName") if not outputs.get(k)]
    if missing:
        raise SystemExit(f"error: the stack outputs in {path} have no {', '.join(missing)} (is sql configured?)")
    return outputs


def publish(repository: Path, workspace_id: str, environment: str, credential: Any = None) -> None:
    from fabric_cicd import FabricWorkspace, publish_all_items

    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    workspace = FabricWorkspace(
        workspace_id=workspace_id,
        environment=environment,
        repository_directory=str(repository),
        item_type_in_scope=ITEM_TYPES,
        token_credential=credential,
    )
    publish_all_items(workspace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", required=True, help="the stack's environment (dev, prod, ...)")
    parser.add_argument("--workspace-id", required=True, help="the Power BI / Fabric workspace id")
    parser.add_argument("--stack-outputs", required=True, help="`pulumi stack output --json` file, or - for stdin")
    args = parser.parse_args(argv)
    outputs = outputs_from(args.stack_outputs)
    with tempfile.TemporaryDirectory(prefix="rta-report-") as tmp:
        repository = prepare(
            Path(tmp) / "report", args.environment, outputs["sqlServerFqdn"], outputs["sqlDatabaseName"]
        )
        publish(repository, args.workspace_id, args.environment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
