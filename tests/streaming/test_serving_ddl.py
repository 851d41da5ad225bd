"""The gold DDL against a real engine (SQLite) through the migration runner, and T-SQL kept in step."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from streaming_jobs.serving.connections import SqliteSession
from streaming_jobs.serving.dialects import Sqlite, TSql
from streaming_jobs.serving.migrate import MIGRATIONS_DIR, MigrationError, load_migrations, migrate
from streaming_jobs.serving.schema import (
    ALL_TABLES,
    GOLD_SCHEMA,
    GOLD_VIEWS,
    SCHEMA_HISTORY,
    SYMBOL_WINDOW_METRICS,
    columns_of,
)

SQLITE = Sqlite()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteSession]:
    session = SqliteSession(tmp_path / "gold.db")
    yield session
    session.close()


def test_migrations_apply_once_and_rerun_is_a_no_op(db: SqliteSession) -> None:
    first = migrate(db)
    assert first.applied == [1, 2] and first.already_applied == []
    snapshot = db.query(f"SELECT type, name, sql FROM {GOLD_SCHEMA}.sqlite_master ORDER BY name")
    second = migrate(db)
    assert second.applied == [] and second.already_applied == [1, 2]
    assert db.query(f"SELECT type, name, sql FROM {GOLD_SCHEMA}.sqlite_master ORDER BY name") == snapshot
    history = db.query(f"SELECT version, description, checksum FROM {SCHEMA_HISTORY.qualified}")
    assert history == [(m.version, m.description, m.checksum) for m in load_migrations("sqlite")]


def test_decimals_round_trip_exactly(tmp_path: Path) -> None:
    """Issue 32, class 7: DECIMAL(38,4) figures come back from local serving as the same decimals (NUMERIC
    affinity stored them as floats: 1234567767543.2109 read 1234567767543.21), rows written before V002
    included, through the tables and the views alike."""
    path = tmp_path / "gold.db"
    root = _copy_migrations(tmp_path)
    (root / "sqlite" / "V002__exact_decimals.sql").rename(tmp_path / "v2.sql")
    db = SqliteSession(path)
    migrate(db, root=root)  # V001 only: the old NUMERIC columns
    notional, price = Decimal("1234567767543.2109"), Decimal("419.9400")
    row = {c: 0 for c in SYMBOL_WINDOW_METRICS.column_names} | {
        "window_start": "2026-03-02 14:30:00.000",
        "symbol": "MSFT",
        "notional": notional,
        "avg_price": Decimal("419.940001"),
    }
    db.begin()
    db.execute(SQLITE.upsert(SYMBOL_WINDOW_METRICS), tuple(row.values()))
    db.commit()
    assert db.query(f"SELECT notional FROM {SYMBOL_WINDOW_METRICS.qualified}") != [(notional,)]  # the old loss
    (tmp_path / "v2.sql").rename(root / "sqlite" / "V002__exact_decimals.sql")
    assert migrate(db, root=root).applied == [2]
    assert db.query(f"SELECT COUNT(*) FROM {SYMBOL_WINDOW_METRICS.qualified}") == [(1,)]  # kept, as it was
    db.begin()
    db.execute(SQLITE.upsert(SYMBOL_WINDOW_METRICS), tuple((row | {"open_price": price}).values()))
    db.commit()
    got = db.query(f"SELECT notional, avg_price, open_price FROM {SYMBOL_WINDOW_METRICS.qualified}")
    assert got == [(notional, Decimal("419.940001"), price)]
    assert all(isinstance(v, Decimal) for v in got[0])
    assert db.query(f"SELECT avg_price, open_price FROM {GOLD_SCHEMA}.v_price_trend") == [
        (Decimal("419.940001"), price)
    ]
    db.close()


def test_migration_survives_a_new_connection(tmp_path: Path) -> None:
    path = tmp_path / "gold.db"
    for _ in range(2):
        session = SqliteSession(path)
        migrate(session)
        session.close()
    session = SqliteSession(path)
    assert session.query(f"SELECT COUNT(*) FROM {SCHEMA_HISTORY.qualified}") == [(len(load_migrations("sqlite")),)]
    session.close()


def test_tables_columns_and_keys_match_the_schema_module(db: SqliteSession) -> None:
    migrate(db)
    d = Sqlite()
    for table in ALL_TABLES.values():
        info = db.query(f"PRAGMA {GOLD_SCHEMA}.table_info({table.name})")
        assert [(r[1], r[2], bool(r[3])) for r in info] == [
            (c.name, d.column_type(c), not c.nullable) for c in table.columns
        ], table.name
        key = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        assert key == list(table.key), table.name


def test_views_have_the_documented_columns(db: SqliteSession) -> None:
    migrate(db)
    for view in GOLD_VIEWS.values():
        info = db.query(f"PRAGMA {GOLD_SCHEMA}.table_info({view.name})")
        assert tuple(r[1] for r in info) == view.columns, view.name
        assert columns_of(view.qualified) == view.columns
    assert "volume" in columns_of("[gold].[symbol_window_metrics]")
    with pytest.raises(KeyError):
        columns_of("gold.nope")


def test_dashboard_indexes_exist(db: SqliteSession) -> None:
    migrate(db)
    names = {r[0] for r in db.query(f"SELECT name FROM {GOLD_SCHEMA}.sqlite_master WHERE type = 'index'")}
    for table in ALL_TABLES.values():
        for index in table.indexes:
            assert index.name in names


# ----------------------------------------------------------------------------- T-SQL variant

_CREATE = re.compile(r"CREATE TABLE gold\.(\w+) \((.*?)\n\);", re.DOTALL)
_COLUMN = re.compile(r"^\s*(\w+)\s+([A-Z0-9(),]+?)\s+(NOT NULL|NULL)\s*,?\s*$")
_PK = re.compile(r"CONSTRAINT pk_(\w+) PRIMARY KEY CLUSTERED \(([^)]*)\)")


def _tsql_tables(script: str) -> dict[str, tuple[list[tuple[str, str, bool]], list[str]]]:
    found = {}
    for name, body in _CREATE.findall(script):
        cols, key = [], []
        for line in body.splitlines():
            if m := _COLUMN.match(line):
                cols.append((m.group(1), m.group(2), m.group(3) == "NOT NULL"))
            elif m := _PK.search(line):
                assert m.group(1) == name
                key = [k.strip() for k in m.group(2).split(",")]
        found[name] = (cols, key)
    return found


def test_tsql_migration_defines_the_same_tables() -> None:
    tables = _tsql_tables(load_migrations("tsql")[0].script)
    d = TSql()
    expected = {n: t for n, t in ALL_TABLES.items() if n != SCHEMA_HISTORY.name}  # the runner makes that one
    assert set(tables) == set(expected)
    for name, table in expected.items():
        cols, key = tables[name]
        assert cols == [(c.name, d.column_type(c), not c.nullable) for c in table.columns], name
        assert key == list(table.key), name


def test_tsql_migration_has_every_view_and_index() -> None:
    script = load_migrations("tsql")[0].script
    for view in GOLD_VIEWS.values():
        m = re.search(rf"CREATE OR ALTER VIEW {view.qualified} AS\n(.*?)\nGO", script, re.DOTALL)
        assert m, view.name
        for column in view.columns:
            assert re.search(rf"\b{column}\b", m.group(1)), (view.name, column)
    for table in ALL_TABLES.values():
        for index in table.indexes:
            assert f"CREATE NONCLUSTERED INDEX {index.name}" in script


def test_tsql_batches_put_each_view_first() -> None:
    batches = TSql().split_script(load_migrations("tsql")[0].script)
    views = [b for b in batches if "CREATE OR ALTER VIEW" in b]
    assert len(views) == len(GOLD_VIEWS)
    # Comments may precede it; no other statement may (SQL Server: CREATE VIEW must start its batch).
    assert all(re.sub(r"^(\s*--[^\n]*\n)*\s*", "", b).startswith("CREATE OR ALTER VIEW") for b in views)
    assert not any(re.search(r"^\s*GO\s*$", b, re.MULTILINE) for b in batches)


def test_same_versions_in_both_dialects() -> None:
    assert [m.version for m in load_migrations("tsql")] == [m.version for m in load_migrations("sqlite")]
    assert [m.description for m in load_migrations("tsql")] == [m.description for m in load_migrations("sqlite")]


def test_tsql_upsert_is_a_holdlock_merge_on_the_key() -> None:
    from streaming_jobs.serving.schema import ALERTS, SYMBOL_WINDOW_METRICS

    sql = TSql().upsert(SYMBOL_WINDOW_METRICS)
    assert sql.startswith("MERGE gold.symbol_window_metrics WITH (HOLDLOCK) AS t")
    assert "ON t.window_start = s.window_start AND t.symbol = s.symbol" in sql
    assert "CAST(? AS DATETIME2(3)) AS window_start" in sql and sql.count("?") == len(SYMBOL_WINDOW_METRICS.columns)
    alerts = TSql().upsert(ALERTS)
    update = alerts.split("UPDATE SET")[1].split("WHEN NOT MATCHED")[0]
    assert "detected_at" not in update and "first_batch_id" not in update


# ----------------------------------------------------------------------------- drift and misuse


def _copy_migrations(tmp_path: Path) -> Path:
    root = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, root)
    return root


def test_an_edited_applied_migration_is_refused(tmp_path: Path, db: SqliteSession) -> None:
    root = _copy_migrations(tmp_path)
    migrate(db, root=root)
    path = root / "sqlite" / "V001__gold_tables.sql"
    path.write_text(path.read_text() + "\n-- sneaky edit\n")
    with pytest.raises(MigrationError, match=r"V001__gold_tables\.sql was changed after it was applied"):
        migrate(db, root=root)


def test_a_new_migration_is_applied_next_time(tmp_path: Path, db: SqliteSession) -> None:
    root = _copy_migrations(tmp_path)
    migrate(db, root=root)
    (root / "sqlite" / "V003__extra_index.sql").write_text(
        "CREATE INDEX IF NOT EXISTS gold.ix_side ON side_window_metrics (side, window_start);\n"
    )
    with pytest.raises(MigrationError, match=r"V003__extra_index\.sql is pending and this run only verifies"):
        migrate(db, apply=False, root=root)
    assert migrate(db, root=root).applied == [3]
    assert migrate(db, root=root).already_applied == [1, 2, 3]


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path, db: SqliteSession) -> None:
    root = _copy_migrations(tmp_path)
    migrate(db, root=root)
    (root / "sqlite" / "V003__broken.sql").write_text(
        "CREATE TABLE gold.half_done (x INTEGER);\nCREATE TABLE gold.symbol_window_metrics (x INTEGER);\n"
    )
    with pytest.raises(Exception, match="already exists"):
        migrate(db, root=root)
    assert db.query(f"SELECT name FROM {GOLD_SCHEMA}.sqlite_master WHERE name = 'half_done'") == []
    assert db.query(f"SELECT MAX(version) FROM {SCHEMA_HISTORY.qualified}") == [(2,)]


def test_database_newer_than_the_code(tmp_path: Path, db: SqliteSession) -> None:
    migrate(db)
    db.begin()
    db.execute(
        f"INSERT INTO {SCHEMA_HISTORY.qualified} VALUES (?, ?, ?, ?)", (9, "future", "x", "2030-01-01 00:00:00.000")
    )
    db.commit()
    with pytest.raises(MigrationError, match=r"migration\(s\) \[9\] that this code does not know"):
        migrate(db)


def test_gap_in_versions_is_refused(tmp_path: Path) -> None:
    root = _copy_migrations(tmp_path)
    (root / "sqlite" / "V004__skipped.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match="without gaps"):
        load_migrations("sqlite", root)
