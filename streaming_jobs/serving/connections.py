"""SQL sessions for the serving path: SQLite locally, Azure SQL with an Entra ID token on Databricks.

The migration runner and the gold upsert talk to a `SqlSession` and a
dialect, never to a driver, so the code the tests run against SQLite is the
code that runs against Azure SQL. No password or connection string exists:
Azure SQL gets an access token for https://database.windows.net/.default from
azure-identity (or a Unity Catalog service credential, which speaks the same
`get_token` protocol), passed as the JDBC `accessToken` property.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from streaming_jobs.serving.dialects import DECIMAL_TEXT, DIALECTS, Dialect
from streaming_jobs.serving.schema import GOLD_SCHEMA

SQL_SCOPE = "https://database.windows.net/.default"

Params = Sequence[Any]


class SqlSession(Protocol):
    dialect: Dialect

    def begin(self) -> None: ...

    def execute(self, sql: str, params: Params = ()) -> None: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    def query(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


# ----------------------------------------------------------------------------- SQLite


class SqliteSession:
    """The gold database file attached as schema `gold` (see dialects.Sqlite)."""

    def __init__(self, path: str | Path) -> None:
        self.dialect = DIALECTS["sqlite"]
        self.path = str(path)
        # isolation_level=None: transactions are explicit (begin/commit), as with JDBC autocommit off.
        # PARSE_DECLTYPES: a DECIMAL_TEXT column (through views too) is read back as an exact Decimal.
        self._conn = sqlite3.connect(
            ":memory:",
            isolation_level=None,
            check_same_thread=False,
            timeout=30,
            detect_types=sqlite3.PARSE_DECLTYPES,
        )
        self._conn.execute(f"ATTACH DATABASE ? AS {GOLD_SCHEMA}", (self.path,))
        if self.path != ":memory:":
            self._conn.execute(f"PRAGMA {GOLD_SCHEMA}.journal_mode=WAL")  # readers (the live view) never block

    def begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def execute(self, sql: str, params: Params = ()) -> None:
        self._conn.execute(sql, [_sqlite_value(v) for v in params])

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._conn.executemany(sql, ([_sqlite_value(v) for v in r] for r in rows))

    def query(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql, [_sqlite_value(v) for v in params]).fetchall())

    def commit(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()


def _decimal_text(raw: bytes) -> Decimal:
    return Decimal(raw.decode())


sqlite3.register_converter(DECIMAL_TEXT, _decimal_text)


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)  # DECIMAL_TEXT columns keep the text exactly (REAL ones convert it)
    if isinstance(v, bool):
        return int(v)
    return v


# ----------------------------------------------------------------------------- Azure SQL


class TokenCredential(Protocol):
    """azure-identity credentials and Databricks service-credential providers both have this."""

    def get_token(self, *scopes: str) -> Any: ...


def default_credential(service_credential: str | None = None, spark: Any = None) -> TokenCredential:
    """The job's identity: a Unity Catalog service credential on Databricks, else DefaultAzureCredential."""
    if service_credential:
        from streaming_jobs.io.secrets import dbutils_for

        dbutils = dbutils_for(spark)
        try:
            provider: TokenCredential = dbutils.credentials.getServiceCredentialsProvider(service_credential)
        except Exception as exc:
            raise RuntimeError(
                f"--service-credential: cannot use Unity Catalog service credential {service_credential!r} "
                f"(does it exist, and may the job's principal ACCESS it?): {exc}"
            ) from exc
        return provider
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


class JdbcSqlServerSession:
    """Azure SQL over the Microsoft JDBC driver (bundled in Databricks Runtime), through the driver JVM.

    Using the JVM's driver means no ODBC install on the cluster. The token is
    fetched before each connect and the connection is renewed before it expires.
    """

    def __init__(self, spark: Any, server: str, database: str, credential: TokenCredential) -> None:
        self.dialect = DIALECTS["tsql"]
        self._jvm = spark.sparkContext._jvm
        self._url = (
            f"jdbc:sqlserver://{server}:1433;database={database};encrypt=true;trustServerCertificate=false;"
            "hostNameInCertificate=*.database.windows.net;loginTimeout=30;applicationName=rta-gold"
        )
        self._credential = credential
        self._conn: Any = None
        self._expires_on = 0.0

    def _connection(self) -> Any:
        if self._conn is None or time.time() > self._expires_on - 300:
            self.close()
            token = self._credential.get_token(SQL_SCOPE)
            props = self._jvm.java.util.Properties()
            props.setProperty("accessToken", token.token)
            self._conn = self._jvm.java.sql.DriverManager.getConnection(self._url, props)
            self._conn.setAutoCommit(False)
            self._expires_on = float(token.expires_on)
        return self._conn

    def begin(self) -> None:
        self._connection()  # autocommit is off: the next statement opens the transaction

    def _prepare(self, sql: str, params: Params) -> Any:
        stmt = self._connection().prepareStatement(sql)
        self._bind(stmt, params)
        return stmt

    def execute(self, sql: str, params: Params = ()) -> None:
        if params:
            stmt = self._prepare(sql, params)
            stmt.execute()
        else:
            stmt = self._connection().createStatement()
            stmt.execute(sql)
        stmt.close()

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        stmt = None
        for row in rows:
            if stmt is None:
                stmt = self._prepare(sql, row)
            else:
                self._bind(stmt, row)
            stmt.addBatch()
        if stmt is not None:
            stmt.executeBatch()
            stmt.close()

    def _bind(self, stmt: Any, params: Params) -> None:
        stmt.clearParameters()
        for i, v in enumerate(params, start=1):
            if v is None:
                stmt.setNull(i, self._jvm.java.sql.Types.VARCHAR)
            elif isinstance(v, bool):
                stmt.setBoolean(i, v)
            elif isinstance(v, int):
                stmt.setLong(i, v)
            elif isinstance(v, float):
                stmt.setDouble(i, v)
            else:
                stmt.setString(i, str(v))  # decimals and timestamps: the statements CAST them

    def query(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        stmt = self._prepare(sql, params)
        rs = stmt.executeQuery()
        n = rs.getMetaData().getColumnCount()
        rows = []
        while rs.next():
            rows.append(tuple(rs.getString(i) for i in range(1, n + 1)))
        rs.close()
        stmt.close()
        return rows

    def commit(self) -> None:
        if self._conn is not None:
            self._conn.commit()

    def rollback(self) -> None:
        if self._conn is not None:
            self._conn.rollback()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class PyodbcSqlServerSession:
    """Azure SQL through pyodbc + ODBC Driver 18, for the migration CLI run by an admin (no Spark)."""

    _SQL_COPT_SS_ACCESS_TOKEN = 1256

    def __init__(self, server: str, database: str, credential: TokenCredential) -> None:
        import struct

        try:
            import pyodbc  # type: ignore[import-not-found]
        except ImportError as exc:
            raise RuntimeError("the migration CLI against Azure SQL needs pyodbc and ODBC Driver 18") from exc
        self.dialect = DIALECTS["tsql"]
        raw = credential.get_token(SQL_SCOPE).token.encode("utf-16-le")
        token = struct.pack(f"<I{len(raw)}s", len(raw), raw)
        self._conn = pyodbc.connect(
            f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:{server},1433;Database={database};"
            "Encrypt=yes;TrustServerCertificate=no;Connection Timeout=30",
            attrs_before={self._SQL_COPT_SS_ACCESS_TOKEN: token},
            autocommit=False,
        )

    def begin(self) -> None:
        pass

    def execute(self, sql: str, params: Params = ()) -> None:
        self._conn.execute(sql, *[_odbc_value(v) for v in params])

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        cur = self._conn.cursor()
        cur.fast_executemany = True
        cur.executemany(sql, [[_odbc_value(v) for v in r] for r in rows])

    def query(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._conn.execute(sql, *[_odbc_value(v) for v in params]).fetchall()]

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()


def _odbc_value(v: Any) -> Any:
    return str(v) if isinstance(v, Decimal) else v


SessionFactory = Callable[[], SqlSession]
