"""Secrets from the Key Vault-backed Databricks secret scope, with errors that name scope and key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class MissingSecretError(RuntimeError):
    """A secret the job needs is not readable; the message names the scope and key."""


class SecretReader(Protocol):
    def get(self, scope: str, key: str) -> str: ...


def dbutils_for(spark: Any) -> Any:
    """dbutils in a Databricks Python-file task (there is no notebook global to pick up)."""
    try:
        from pyspark.dbutils import DBUtils  # type: ignore[import-not-found]
    except ImportError as exc:
        raise RuntimeError("dbutils exists only on Databricks; run locally with the local edges") from exc
    return DBUtils(spark)


class DbutilsSecrets:
    def __init__(self, spark: Any) -> None:
        self._dbutils = dbutils_for(spark)

    def get(self, scope: str, key: str) -> str:
        try:
            value = self._dbutils.secrets.get(scope=scope, key=key)
        except Exception as exc:
            raise MissingSecretError(
                f"secret {key!r} is not readable in secret scope {scope!r}: does the Key Vault hold it, and may "
                f"the job's principal READ the scope? ({type(exc).__name__})"
            ) from exc
        if not value:
            raise MissingSecretError(f"secret {key!r} in secret scope {scope!r} is empty")
        return str(value)


class DictSecrets:
    """For tests and local runs: secrets from a mapping of (scope, key) -> value."""

    def __init__(self, values: Mapping[tuple[str, str], str]) -> None:
        self._values = dict(values)

    def get(self, scope: str, key: str) -> str:
        try:
            value = self._values[(scope, key)]
        except KeyError:
            raise MissingSecretError(f"secret {key!r} is not readable in secret scope {scope!r}") from None
        if not value:
            raise MissingSecretError(f"secret {key!r} in secret scope {scope!r} is empty")
        return value
