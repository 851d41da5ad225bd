"""The Power BI data source file (`.pbids`) for the gold database.

A `.pbids` file is a small JSON document Power BI Desktop opens as "Get data"
with the connection already filled in. It holds the server and database only:
the analyst signs in with their own Entra ID account (the server accepts
nothing else), so the file carries no credential and is safe to hand out.

Pure functions, no Pulumi: the stack, `tools/write_pbids.py` and the tests
share them.
"""

from __future__ import annotations

import json
from typing import Any

PBIDS_VERSION = "0.1"
# Power BI's SQL Server / Azure SQL connector speaks TDS.
PBIDS_PROTOCOL = "tds"
# DirectQuery: every visual queries the database, so dashboards show rows seconds after the upsert.
PBIDS_MODE = "DirectQuery"
# Power BI's SQL Server connector has no ApplicationIntent setting of its own; its "Enable SQL Server
# Failover support" option (Power Query's MultiSubnetFailover=true) also sets ApplicationIntent=ReadOnly,
# which routes the connection to the readable secondary of a Business Critical database
# (learn.microsoft.com/azure/azure-sql/database/read-scale-out: "ApplicationIntent=ReadOnly";
# sqlarcher.com/2019/04/09/read-only-replicas-for-power-bi-and-azure-analysis-services/;
# sauget-ch.fr/2021/07/azure-analysis-services-on-azure-sql-db-read-intent, the same "options" key).
READ_ONLY_OPTION = "MultiSubnetFailover"


def pbids_document(server: str, database: str, *, read_only_replica: bool = False) -> dict[str, Any]:
    """The documented `.pbids` shape: one tds connection to server/database, DirectQuery.

    With `read_only_replica` the connection asks for read intent, so dashboards read the readable
    secondary and never load the primary the gold job writes to.
    """
    if not server or not database:
        raise ValueError(f"a .pbids needs a server and a database (got server={server!r}, database={database!r})")
    return {
        "version": PBIDS_VERSION,
        "connections": [
            {
                "details": {
                    "protocol": PBIDS_PROTOCOL,
                    "address": {"server": server, "database": database},
                },
                "options": {READ_ONLY_OPTION: True} if read_only_replica else {},
                "mode": PBIDS_MODE,
            }
        ],
    }


def pbids_json(server: str, database: str, *, read_only_replica: bool = False) -> str:
    return json.dumps(pbids_document(server, database, read_only_replica=read_only_replica), indent=2)


def validate_pbids(document: Any) -> list[str]:
    """Problems with a `.pbids` document (empty when it is a valid single-connection tds file)."""
    problems: list[str] = []
    if not isinstance(document, dict):
        return ["the document is not a JSON object"]
    if document.get("version") != PBIDS_VERSION:
        problems.append(f"version is {document.get('version')!r}, expected {PBIDS_VERSION!r}")
    connections = document.get("connections")
    if not isinstance(connections, list) or len(connections) != 1:
        return [*problems, "connections must be a list with exactly one connection"]
    connection = connections[0]
    if not isinstance(connection, dict):
        return [*problems, "connections[0] is not an object"]
    details = connection.get("details") or {}
    if details.get("protocol") != PBIDS_PROTOCOL:
        problems.append(f"connections[0].details.protocol is {details.get('protocol')!r}, expected {PBIDS_PROTOCOL!r}")
    address = details.get("address") or {}
    for key in ("server", "database"):
        if not isinstance(address.get(key), str) or not address.get(key):
            problems.append(f"connections[0].details.address.{key} is missing")
    if connection.get("mode") not in ("DirectQuery", "Import"):
        problems.append(f"connections[0].mode is {connection.get('mode')!r}, expected DirectQuery or Import")
    options = connection.get("options", {})
    if not isinstance(options, dict) or set(options) - {READ_ONLY_OPTION}:
        problems.append(f"connections[0].options may only hold {READ_ONLY_OPTION!r}, got {options!r}")
    elif not isinstance(options.get(READ_ONLY_OPTION, False), bool):
        problems.append(f"connections[0].options.{READ_ONLY_OPTION} must be true or false")
    extra = set(address) - {"server", "database"}
    if extra:
        problems.append(
            f"connections[0].details.address has unexpected keys {sorted(extra)} (no credentials belong here)"
        )
    return problems
