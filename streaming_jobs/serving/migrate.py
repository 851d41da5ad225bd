"""Versioned, idempotent migrations of the gold serving database.

Files live in `migrations/<dialect>/V<nnn>__<description>.sql`, one variant per
dialect with the same version numbers (tests check both define the tables in
serving/schema.py). The runner records every applied version with the file's
checksum in `gold.schema_history`; running it again applies nothing, and a
migration edited after it was applied is an error rather than a silent drift.
Each migration runs in its own transaction together with its history row, under
an exclusive lock, so two gold jobs starting at once cannot both apply it.

CLI (an admin applying migrations ahead of a least-privilege job):
    python -m streaming_jobs.serving.migrate --sqlite out/gold.db
    python -m streaming_jobs.serving.migrate --server <fqdn> --database gold   # Entra token, pyodbc
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from streaming_jobs.serving.connections import SqlSession
from streaming_jobs.serving.schema import SCHEMA_HISTORY

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^V(\d{3,})__([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The database and the migration files disagree, or a pending migration may not be applied."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    path: Path
    script: str

    @property
    def checksum(self) -> str:
        # Line endings normalised: a checkout on Windows must not look like an edited migration.
        return hashlib.sha256(self.script.replace("\r\n", "\n").encode()).hexdigest()


@dataclass
class MigrationReport:
    applied: list[int] = field(default_factory=list)
    already_applied: list[int] = field(default_factory=list)


def load_migrations(dialect: str, root: Path = MIGRATIONS_DIR) -> list[Migration]:
    folder = root / dialect
    if not folder.is_dir():
        raise MigrationError(f"no migrations for dialect {dialect!r} in {folder}")
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"{path.name}: migration files are named V<nnn>__<description>.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path, path.read_text()))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise MigrationError(f"{folder}: versions must run 1..n without gaps, found {[m.version for m in found]}")
    return found


def applied_versions(session: SqlSession) -> dict[int, str]:
    rows = session.query(f"SELECT version, checksum FROM {SCHEMA_HISTORY.qualified}")
    return {int(v): str(c) for v, c in rows}


def migrate(session: SqlSession, *, apply: bool = True, root: Path = MIGRATIONS_DIR) -> MigrationReport:
    """Bring the database to the newest version (apply=False only verifies that it is there)."""
    dialect = session.dialect
    migrations = load_migrations(dialect.name, root)
    report = MigrationReport()
    for migration in migrations:
        session.begin()
        try:
            for stmt in dialect.lock():
                session.execute(stmt)
            for stmt in dialect.bootstrap():
                session.execute(stmt)
            done = applied_versions(session)  # read under the lock: another job may just have applied it
            unknown = sorted(v for v in done if v > len(migrations))
            if unknown:
                raise MigrationError(
                    f"the database has migration(s) {unknown} that this code does not know: it is older than the "
                    f"schema; deploy the newer job code"
                )
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"{migration.path.name} was changed after it was applied (checksum differs); "
                        f"add a new migration instead of editing an applied one"
                    )
                report.already_applied.append(migration.version)
                session.rollback()
                continue
            if not apply:
                raise MigrationError(
                    f"migration {migration.path.name} is pending and this run only verifies; apply it with "
                    f"`python -m streaming_jobs.serving.migrate` as a database admin, or run the job with "
                    f"--sql-migrate apply"
                )
            for stmt in dialect.split_script(migration.script):
                session.execute(stmt)
            session.execute(
                f"INSERT INTO {SCHEMA_HISTORY.qualified} (version, description, checksum, applied_at) "
                f"VALUES (?, ?, ?, ?)",
                (migration.version, migration.description, migration.checksum, _now()),
            )
            session.commit()
            report.applied.append(migration.version)
        except BaseException:
            session.rollback()
            raise
    return report


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streaming_jobs.serving.migrate", description=__doc__.split("\n")[0]
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--sqlite", help="path of a local SQLite gold database")
    target.add_argument("--server", help="Azure SQL server FQDN (Entra token from DefaultAzureCredential)")
    parser.add_argument("--database", help="database name (with --server)")
    parser.add_argument("--verify", action="store_true", help="only check that every migration is applied")
    args = parser.parse_args(argv)
    session: SqlSession
    if args.sqlite:
        from streaming_jobs.serving.connections import SqliteSession

        session = SqliteSession(args.sqlite)
    else:
        if not args.database:
            parser.error("--database is required with --server")
        from streaming_jobs.serving.connections import PyodbcSqlServerSession, default_credential

        session = PyodbcSqlServerSession(args.server, args.database, default_credential())
    try:
        report = migrate(session, apply=not args.verify)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        session.close()
    print(f"applied {report.applied or 'nothing'}; already applied {report.already_applied}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
