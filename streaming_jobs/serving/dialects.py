"""The two SQL dialects the serving path speaks: T-SQL (Azure SQL) and SQLite (local tests).

Everything that differs between them is here and nowhere else: type names,
the upsert statement, how a migration file splits into batches, how the
schema-history table is bootstrapped and how a migration run is serialised.
Statements use `?` placeholders, which both sqlite3 and JDBC understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from streaming_jobs.serving.schema import GOLD_SCHEMA, SCHEMA_HISTORY, Column, Table


class Dialect(Protocol):
    @property
    def name(self) -> str: ...

    def column_type(self, col: Column) -> str: ...

    def placeholder(self, col: Column) -> str: ...

    def upsert(self, table: Table) -> str: ...

    def split_script(self, script: str) -> list[str]: ...

    def bootstrap(self) -> list[str]: ...

    def lock(self) -> list[str]: ...


# SQLite's declared type for DECIMAL(p,s) columns (migrations/sqlite/V002__exact_decimals.sql).
DECIMAL_TEXT = "DECIMAL_TEXT"
_DECIMAL = re.compile(r"^DECIMAL\((\d+),(\d+)\)$")
_VARCHAR = re.compile(r"^VARCHAR\((\d+)\)$")


@dataclass(frozen=True)
class TSql:
    """Azure SQL Database."""

    name: str = "tsql"

    def column_type(self, col: Column) -> str:
        t = col.type
        if t == "TIMESTAMP":
            return "DATETIME2(3)"
        if t in ("BIGINT", "INT", "BIT", "FLOAT") or _DECIMAL.match(t) or _VARCHAR.match(t):
            return t
        raise ValueError(f"no T-SQL type for {t!r} ({col.name})")

    def placeholder(self, col: Column) -> str:
        # Parameters arrive as strings for decimals and timestamps; the cast keeps index seeks sargable.
        return f"CAST(? AS {self.column_type(col)})"

    def upsert(self, table: Table) -> str:
        """MERGE one row. HOLDLOCK makes the match-then-insert atomic under concurrent writers."""
        cols = table.column_names
        source = ", ".join(f"{self.placeholder(table.column(c))} AS {c}" for c in cols)
        on = " AND ".join(f"t.{k} = s.{k}" for k in table.key)
        updates = ", ".join(f"{c} = s.{c}" for c in cols if c not in table.key and c not in table.insert_only)
        return (
            f"MERGE {table.qualified} WITH (HOLDLOCK) AS t USING (SELECT {source}) AS s ON {on} "
            f"WHEN MATCHED THEN UPDATE SET {updates} "
            f"WHEN NOT MATCHED BY TARGET THEN INSERT ({', '.join(cols)}) VALUES ({', '.join('s.' + c for c in cols)});"
        )

    def split_script(self, script: str) -> list[str]:
        """sqlcmd-style batches: a line holding only GO ends one (CREATE VIEW must start a batch)."""
        batches: list[str] = []
        current: list[str] = []
        for line in script.splitlines():
            if re.match(r"^\s*GO\s*$", line, re.IGNORECASE):
                batches.append("\n".join(current))
                current = []
            else:
                current.append(line)
        batches.append("\n".join(current))
        return [b.strip() for b in batches if _has_sql(b)]

    def bootstrap(self) -> list[str]:
        h = SCHEMA_HISTORY
        cols = ", ".join(f"{c.name} {self.column_type(c)} NOT NULL" for c in h.columns)
        return [
            f"IF SCHEMA_ID(N'{GOLD_SCHEMA}') IS NULL EXEC(N'CREATE SCHEMA {GOLD_SCHEMA}')",
            f"IF OBJECT_ID(N'{h.qualified}', N'U') IS NULL CREATE TABLE {h.qualified} ({cols}, "
            f"CONSTRAINT pk_{h.name} PRIMARY KEY ({', '.join(h.key)}))",
        ]

    def lock(self) -> list[str]:
        # Two jobs starting together apply each migration once: the second waits, then finds it applied.
        return [
            "DECLARE @r INT; EXEC @r = sp_getapplock @Resource = N'rta_gold_migrations', @LockMode = N'Exclusive', "
            "@LockOwner = N'Transaction', @LockTimeout = 60000; "
            "IF @r < 0 THROW 51000, N'could not take the migration lock rta_gold_migrations', 1;"
        ]


@dataclass(frozen=True)
class Sqlite:
    """SQLite with the gold database attached as schema `gold`, so qualified names match T-SQL."""

    name: str = "sqlite"

    def column_type(self, col: Column) -> str:
        t = col.type
        if t == "TIMESTAMP" or _VARCHAR.match(t):
            return "TEXT"  # timestamps as 'YYYY-MM-DD HH:MM:SS.fff' (UTC): they sort and date() reads them
        if t in ("BIGINT", "INT", "BIT"):
            return "INTEGER"
        if t == "FLOAT":
            return "REAL"
        if _DECIMAL.match(t):
            # Text affinity (the name holds "TEXT"): the exact decimal text, never a float (V002); read back
            # as Decimal by SqliteSession.
            return DECIMAL_TEXT
        raise ValueError(f"no SQLite type for {t!r} ({col.name})")

    def placeholder(self, col: Column) -> str:
        return "?"

    def upsert(self, table: Table) -> str:
        cols = table.column_names
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in table.key and c not in table.insert_only)
        return (
            f"INSERT INTO {table.qualified} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
            f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
        )

    def split_script(self, script: str) -> list[str]:
        import sqlite3

        statements: list[str] = []
        current = ""
        for line in script.splitlines(keepends=True):
            current += line
            if sqlite3.complete_statement(current):
                statements.append(current.strip())
                current = ""
        if _has_sql(current):
            raise ValueError(f"unterminated statement at the end of the script: {current.strip()[:80]!r}")
        return [s for s in statements if _has_sql(s)]

    def bootstrap(self) -> list[str]:
        h = SCHEMA_HISTORY
        cols = ", ".join(f"{c.name} {self.column_type(c)} NOT NULL" for c in h.columns)
        return [f"CREATE TABLE IF NOT EXISTS {h.qualified} ({cols}, PRIMARY KEY ({', '.join(h.key)}))"]

    def lock(self) -> list[str]:
        return []  # the connection's BEGIN IMMEDIATE already serialises writers


def _has_sql(text: str) -> bool:
    """True when the text holds more than comments and whitespace."""
    stripped = re.sub(r"--[^\n]*", "", text)
    stripped = re.sub(r"/\*.*?\*/", "", stripped, flags=re.DOTALL)
    return bool(stripped.strip().strip(";").strip())


DIALECTS: dict[str, Dialect] = {"tsql": TSql(), "sqlite": Sqlite()}
