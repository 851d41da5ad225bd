"""The rta-platform zero-trust policy pack, as importable modules.

`policies/__main__.py` builds the PolicyPack from `ALL_POLICIES`; the offline
runner and the tests import the same list, so what is tested is what the CLI runs.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel

from . import (
    confluent,
    databricks,
    databricks_workspace,
    egress,
    eventhub,
    functions,
    governance,
    hardening,
    identity,
    keyvault,
    kusto,
    monitoring,
    network,
    operations,
    sql,
    storage,
)
from ._core import Meta, ZeroTrustResourcePolicy, ZeroTrustStackPolicy

PACK_NAME = "rta-zero-trust"
PACK_DESCRIPTION = (
    "Zero-trust guardrails for the rta-platform real-time analytics stack on Azure, Databricks and Confluent."
)
# Every policy sets its own level; this only covers a policy someone adds without one.
PACK_ENFORCEMENT = EnforcementLevel.MANDATORY

MODULES = [
    storage,
    keyvault,
    eventhub,
    databricks_workspace,
    sql,
    network,
    monitoring,
    identity,
    governance,
    databricks,
    confluent,
    functions,
    kusto,
    egress,
    hardening,
    operations,
]

ALL_POLICIES: list[ZeroTrustResourcePolicy | ZeroTrustStackPolicy] = [p for m in MODULES for p in m.POLICIES]


def by_name() -> dict[str, ZeroTrustResourcePolicy | ZeroTrustStackPolicy]:
    return {p.name: p for p in ALL_POLICIES}


def metadata() -> list[Meta]:
    return [p.meta for p in ALL_POLICIES]


__all__ = ["ALL_POLICIES", "MODULES", "PACK_DESCRIPTION", "PACK_ENFORCEMENT", "PACK_NAME", "by_name", "metadata"]
