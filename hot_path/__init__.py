"""Seeds 002 and 003's hot path: Kusto (Azure Data Explorer) schema, alert functions and dashboard, as files.

The KQL lives in `kql/` (applied in file-name order by the stack's Kusto Script resources);
the one generated part is `05_symbols.kql`, the traded symbols from the stack config.
`check` runs Microsoft's Kusto language service (tools/kql_check.mjs) over scripts and queries.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOT_PATH = Path(__file__).resolve().parent
REPO = HOT_PATH.parent
KQL_DIR = HOT_PATH / "kql"
DASHBOARD = HOT_PATH / "dashboard" / "trading-dashboard.json"
CHECKER = REPO / "tools" / "kql_check.mjs"
SYMBOLS_SCRIPT = "05_symbols.kql"
# The dashboard's time-range parameter, declared for every dashboard query.
DASHBOARD_PARAMETERS = ("_startTime:datetime", "_endTime:datetime")


@dataclass(frozen=True)
class KqlFile:
    name: str
    text: str


@dataclass(frozen=True)
class KqlCheck:
    diagnostics: list[dict[str, Any]]
    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)
    query_columns: dict[str, list[list[str]]] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        return [
            f"{d['file']}:{d['line']}:{d['column']}: {d['code']} {d['message']}"
            for d in self.diagnostics
            if d["severity"] == "Error"
        ]


def symbols_script(symbols: Sequence[str]) -> KqlFile:
    listed = ", ".join(json.dumps(s) for s in symbols)
    text = (
        "// Generated from the stack's databricks.streaming.symbols: the symbols the platform trades.\n"
        '.create-or-alter function with (docstring = "The traded symbols (stack config)", folder = "hot-path") '
        f"TradingSymbols() {{\n    dynamic([{listed}])\n}}\n"
    )
    return KqlFile(SYMBOLS_SCRIPT, text)


def database_scripts(symbols: Sequence[str]) -> list[KqlFile]:
    """Every database script in the order it is applied."""
    files = [KqlFile(p.name, p.read_text(encoding="utf-8")) for p in sorted(KQL_DIR.glob("*.kql"))]
    return sorted([symbols_script(symbols), *files], key=lambda f: f.name)


def dashboard_queries(dashboard: dict[str, Any]) -> list[KqlFile]:
    return [KqlFile(f"dashboard:{q['id']}", q["text"]) for q in dashboard["queries"]]


@dataclass(frozen=True)
class KqlCase:
    """A set of database scripts (applied in order) and queries analysed against their result."""

    scripts: Sequence[KqlFile]
    queries: Sequence[KqlFile] = ()
    database: str = "rta"


def check_all(cases: Sequence[KqlCase]) -> list[KqlCheck]:
    """Parse and analyse every case with the Kusto language service, in one Node process (bounded to 120 s)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: the KQL checks need Node.js >= 20 (see README)")
    payload = {
        "cases": [
            {
                "database": case.database,
                "scripts": [{"name": s.name, "text": s.text} for s in case.scripts],
                "queries": [
                    {"name": q.name, "text": q.text, "parameters": list(DASHBOARD_PARAMETERS)} for q in case.queries
                ],
            }
            for case in cases
        ]
    }
    done = subprocess.run(
        [node, str(CHECKER)], input=json.dumps(payload), capture_output=True, text=True, timeout=120, cwd=REPO
    )
    if done.returncode != 0:
        raise RuntimeError(f"tools/kql_check.mjs failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return [KqlCheck(r["diagnostics"], r["tables"], r["functions"], r["queries"]) for r in json.loads(done.stdout)]


def check(scripts: Sequence[KqlFile], queries: Sequence[KqlFile] = (), *, database: str = "rta") -> KqlCheck:
    return check_all([KqlCase(scripts, queries, database)])[0]
