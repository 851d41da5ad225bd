"""Stack config for the hot path (`rta-platform:hotPath`): Azure Data Explorer fed from Event Hubs.

Environment rules (prod: a production SKU across zones, double encryption and the platform's
customer-managed keys) need the environment, so they live in `HotPathConfig.stack_problems`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from stack_config.section import HubName, Section
from stack_config.sql import EntraGroupConfig

# Kusto SKUs the platform offers: the no-SLA dev SKU and the current Eadsv5 family
# (https://learn.microsoft.com/azure/data-explorer/manage-cluster-choose-sku).
KustoSku = Literal[
    "Dev(No SLA)_Standard_E2a_v4",
    "Standard_E2ads_v5",
    "Standard_E4ads_v5",
    "Standard_E8ads_v5",
    "Standard_E16ads_v5",
]
DatabaseName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,259}$")]
_DEV_SKU = re.compile(r"^Dev\(")


class HotPathConfig(Section):
    engine: Literal["kusto"] = "kusto"
    sku: KustoSku = "Dev(No SLA)_Standard_E2a_v4"
    capacity: int = Field(default=1, ge=1, le=1000)
    zones: tuple[Literal["1", "2", "3"], ...] = ()
    database_name: DatabaseName = "trades"
    # How long rows stay queryable, and how much of that is kept on the cluster's SSD cache.
    retention_days: int = Field(default=30, ge=1, le=36500)
    hot_cache_days: int = Field(default=7, ge=0, le=36500)
    # The Event Hubs consumer group the data connection reads (one per consumer, never $Default).
    consumer_group: HubName = "kusto-hot-path"
    double_encryption: bool = False
    auto_stop: bool = False
    # Who may read the database (Kusto's database roles; components/kusto_hot_path.py cites them):
    # viewers query data and metadata (the dashboard's readers), monitors run the `.show` commands
    # operators use (ingestion failures, operations, queries) and cannot query the tables.
    viewers: EntraGroupConfig | None = None
    monitors: EntraGroupConfig | None = None

    @model_validator(mode="after")
    def _shape(self) -> HotPathConfig:
        problems = []
        if self.hot_cache_days > self.retention_days:
            problems.append(f"hotCacheDays {self.hot_cache_days} exceeds retentionDays {self.retention_days}")
        if _DEV_SKU.match(self.sku) and self.capacity != 1:
            problems.append(f"capacity {self.capacity}: the Dev(No SLA) SKU runs exactly one instance")
        if not _DEV_SKU.match(self.sku) and self.capacity < 2:
            problems.append(f"capacity {self.capacity}: a production SKU needs at least 2 instances")
        if _DEV_SKU.match(self.sku) and self.zones:
            problems.append("zones: the Dev(No SLA) SKU is not zone-redundant")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def stack_problems(
        self, *, is_prod: bool, customer_managed_keys: bool, hub_consumer_groups: tuple[str, ...] | None
    ) -> list[str]:
        problems = []
        if hub_consumer_groups is None:
            problems.append("hotPath needs ingestion.provider 'eventhubs' (Kusto reads the trades hub)")
        elif self.consumer_group not in hub_consumer_groups:
            problems.append(
                f"hotPath.consumerGroup {self.consumer_group!r} is not one of the trades hub's consumerGroups "
                f"{list(hub_consumer_groups)}"
            )
        if is_prod:
            if _DEV_SKU.match(self.sku):
                problems.append("hotPath.sku: the Dev(No SLA) SKU is not allowed in prod")
            if len(self.zones) < 3:
                problems.append("hotPath.zones must list 3 availability zones in prod")
            if not self.double_encryption:
                problems.append("hotPath.doubleEncryption must be true in prod (it can only be set at creation)")
            if not customer_managed_keys:
                problems.append("hotPath in prod needs encryption.customerManagedKeys")
        return problems

    @property
    def retention(self) -> str:
        return f"P{self.retention_days}D"

    @property
    def hot_cache(self) -> str:
        return f"P{self.hot_cache_days}D"
