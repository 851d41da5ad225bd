"""Typed stack configuration: every setting the stack program reads.

Keys are camelCase in `Pulumi.<stack>.yaml` (under the `rta-platform:`
namespace) and snake_case here. Unknown keys are errors, so a typo never
silently falls back to a default. Secure choices are the defaults; the few
insecure conveniences are explicit, named switches.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from components.lake_rules import lifecycle_problems
from stack_config.capacity import CapacityConfig
from stack_config.capacity_model import capacity_problems
from stack_config.confluent import ConfluentConfig, GroupPrefix
from stack_config.confluent import stack_problems as confluent_stack_problems
from stack_config.databricks import DatabricksConfig
from stack_config.egress import allowlist_regions
from stack_config.hot_path import HotPathConfig
from stack_config.network import (
    DefenderConfig,
    DeployRunnerConfig,
    FirewallConfig,
    FlowLogsConfig,
    NetworkHubConfig,
    Topology,
    topology_problems,
)
from stack_config.operations import OperationsConfig
from stack_config.producer import ProducerConfig
from stack_config.section import HubName, Section
from stack_config.sql import DashboardsConfig, SqlConfig

PROJECT = "rta-platform"


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


LowerName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,7}$")]
TagValue = Annotated[str, StringConstraints(min_length=1, max_length=256)]

REQUIRED_TAG_KEYS = ("owner", "costCenter", "dataClassification")
# Tag keys the program sets itself; a stack file may not override them.
RESERVED_TAG_KEYS = ("environment", "managedBy", "project")


def _network(cidr: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(cidr, strict=True)


class SubnetsConfig(Section):
    private_endpoints: str
    databricks_host: str
    databricks_container: str
    # The API poller's VNet integration subnet (delegated to Microsoft.App/environments); needed with `producer`.
    functions: str | None = None


class NetworkConfig(Section):
    address_space: str
    subnets: SubnetsConfig
    # spoke | hub-spoke; unset means hub-spoke in prod and spoke elsewhere (StackConfig.topology).
    topology: Topology | None = None
    hub: NetworkHubConfig | None = None
    firewall: FirewallConfig = FirewallConfig()
    flow_logs: FlowLogsConfig = FlowLogsConfig()
    # The runners' VNet, given line of sight to every private endpoint (stack_config/network.py).
    deploy_runner: DeployRunnerConfig | None = None

    @model_validator(mode="after")
    def _subnets_fit(self) -> NetworkConfig:
        problems: list[str] = []
        try:
            space = _network(self.address_space)
        except ValueError as exc:
            raise ValueError(f"addressSpace {self.address_space!r} is not an IPv4 CIDR network ({exc})") from None
        parsed: dict[str, ipaddress.IPv4Network] = {}
        for key, cidr in self.subnets.model_dump(by_alias=True, exclude_none=True).items():
            try:
                net = _network(cidr)
            except ValueError as exc:
                problems.append(f"subnets.{key} {cidr!r} is not an IPv4 CIDR network ({exc})")
                continue
            if not net.subnet_of(space):
                problems.append(f"subnets.{key} {cidr} is outside addressSpace {space}")
            if key.startswith("databricks") and net.prefixlen > 26:
                problems.append(f"subnets.{key} {cidr} is smaller than /26, the minimum Databricks accepts")
            if key == "privateEndpoints" and net.prefixlen > 28:
                problems.append(f"subnets.{key} {cidr} is smaller than /28")
            # VNet integration takes a /28 at least; Microsoft recommends /26 for scale-out
            # (https://learn.microsoft.com/azure/app-service/configure-vnet-integration-enable).
            if key == "functions" and net.prefixlen > 28:
                problems.append(f"subnets.{key} {cidr} is smaller than /28, the minimum VNet integration accepts")
            for other_key, other in parsed.items():
                if net.overlaps(other):
                    problems.append(f"subnets.{key} {cidr} overlaps subnets.{other_key} {other}")
            parsed[key] = net
        if problems:
            raise ValueError("; ".join(problems))
        return self


class MonitoringConfig(Section):
    retention_days: int = Field(ge=30, le=730)
    daily_quota_gb: float | None = Field(default=None, gt=0)
    # Explicit, named convenience: lets operators query logs from the internet
    # (ingestion stays private either way).
    allow_public_query: bool = False
    # An Azure Monitor private link scope with the workspace, its private endpoint and DNS zones:
    # ingestion private-only always, query private-only unless allowPublicQuery.
    private_link_scope: bool = True


class KeyVaultConfig(Section):
    sku: Literal["standard", "premium"] = "standard"
    soft_delete_retention_days: int = Field(default=90, ge=7, le=90)


class EncryptionConfig(Section):
    customer_managed_keys: bool = False
    key_type: Literal["RSA", "RSA-HSM"] = "RSA"
    key_size: Literal[2048, 3072, 4096] = 3072
    # ISO-8601 durations understood by Key Vault's rotation policy.
    key_rotation: Annotated[str, StringConstraints(pattern=r"^P(\d+Y)?(\d+M)?(\d+D)?$")] = "P1Y"
    key_expiry: Annotated[str, StringConstraints(pattern=r"^P(\d+Y)?(\d+M)?(\d+D)?$")] = "P2Y"


class Replication(StrEnum):
    LRS = "LRS"
    ZRS = "ZRS"
    GRS = "GRS"
    GZRS = "GZRS"
    RAGRS = "RAGRS"
    RAGZRS = "RAGZRS"


# Replications that keep the data through the loss of one availability zone.
ZONE_REDUNDANT_REPLICATION = (Replication.ZRS, Replication.GZRS, Replication.RAGZRS)


class DataLakeConfig(Section):
    replication: Replication = Replication.ZRS
    tier_to_cool_after_days: int = Field(default=90, ge=1)
    # After this many days raw data is archived, moved to cold or deleted (expiryAction). Archive
    # exists on LRS/GRS/RA-GRS accounts only (components/data_lake.py cites Microsoft's page).
    expire_after_days: int = Field(default=730, ge=1)
    expiry_action: Literal["archive", "cold", "delete"] = "cold"
    # Containers whose blobs the lifecycle policy tiers. Only raw capture (landing) may be listed:
    # bronze, silver and gold hold Delta tables and checkpoints holds stream state; blob lifecycle
    # never touches them (tiering or deleting files under a Delta log or a checkpoint breaks them).
    lifecycle_containers: tuple[Literal["landing", "bronze", "silver", "gold", "checkpoints"], ...] = ("landing",)

    @model_validator(mode="after")
    def _ordered(self) -> DataLakeConfig:
        problems = lifecycle_problems(self.replication.value, self.expiry_action, self.lifecycle_containers)
        if self.expire_after_days <= self.tier_to_cool_after_days:
            problems.append(
                f"expireAfterDays {self.expire_after_days} must be greater than "
                f"tierToCoolAfterDays {self.tier_to_cool_after_days}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class EventHubsSku(StrEnum):
    STANDARD = "Standard"
    PREMIUM = "Premium"
    DEDICATED = "Dedicated"


class HubConfig(Section):
    name: HubName
    partitions: int = Field(ge=1, le=100)
    retention_hours: int = Field(ge=1, le=2160)
    # One consumer group per consumer: readers never share offsets.
    consumer_groups: tuple[HubName, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_groups(self) -> HubConfig:
        if len(set(self.consumer_groups)) != len(self.consumer_groups):
            raise ValueError(f"consumerGroups of hub {self.name!r} has duplicates: {list(self.consumer_groups)}")
        if "$Default" in self.consumer_groups:
            raise ValueError("consumerGroups must not use '$Default'; give each consumer its own group")
        return self


class CaptureConfig(Section):
    enabled: bool = False
    interval_seconds: int = Field(default=300, ge=60, le=900)
    size_limit_bytes: int = Field(default=314572800, ge=10485760, le=524288000)


class EventHubsConfig(Section):
    sku: EventHubsSku
    capacity: int = Field(ge=1, le=40)
    auto_inflate_max_units: int | None = Field(default=None, ge=1, le=40)
    zone_redundant: bool = True
    # Resource id of an Event Hubs Dedicated cluster (sku Dedicated only).
    dedicated_cluster_id: str | None = None
    hubs: tuple[HubConfig, ...] = Field(min_length=1)
    capture: CaptureConfig = CaptureConfig()
    # Prefix of the Kafka consumer-group ids the bronze job uses (Spark's `groupIdPrefix`). Kafka
    # groups are not the hubs' (AMQP) consumer groups: Event Hubs creates them on first use.
    kafka_consumer_group_prefix: GroupPrefix = "bronze-ingest"

    @model_validator(mode="after")
    def _sku_rules(self) -> EventHubsConfig:
        problems: list[str] = []
        names = [h.name for h in self.hubs]
        if len(set(names)) != len(names):
            problems.append(f"hubs has duplicate names: {names}")
        if self.auto_inflate_max_units is not None:
            if self.sku is not EventHubsSku.STANDARD:
                problems.append(f"autoInflateMaxUnits is only valid with sku Standard, not {self.sku.value}")
            elif self.auto_inflate_max_units < self.capacity:
                problems.append(
                    f"autoInflateMaxUnits {self.auto_inflate_max_units} must be >= capacity {self.capacity}"
                )
        if self.sku is EventHubsSku.STANDARD:
            for hub in self.hubs:
                if hub.partitions > 32:
                    problems.append(f"hubs[{hub.name}].partitions {hub.partitions} exceeds 32, the Standard limit")
                if hub.retention_hours > 168:
                    problems.append(
                        f"hubs[{hub.name}].retentionHours {hub.retention_hours} exceeds 168, the Standard limit"
                    )
        if self.sku is EventHubsSku.PREMIUM and self.capacity not in (1, 2, 4, 8, 16):
            problems.append(f"capacity {self.capacity} is not a Premium processing-unit size (1, 2, 4, 8, 16)")
        if (self.sku is EventHubsSku.DEDICATED) != (self.dedicated_cluster_id is not None):
            problems.append("dedicatedClusterId is required with sku Dedicated and only valid with it")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class IngestionProvider(StrEnum):
    EVENTHUBS = "eventhubs"
    CONFLUENT = "confluent"


class IngestionConfig(Section):
    provider: IngestionProvider = IngestionProvider.EVENTHUBS
    # The hub/topic the producer writes and the bronze job reads.
    trades_stream: HubName = "trades"


class LockConfig(Section):
    # A CanNotDelete lock on the resource group: prod data must survive a stray destroy.
    enabled: bool = False


class StackConfig(Section):
    """The whole validated stack configuration."""

    environment: Environment
    location: str  # from azure-native:location
    name_prefix: LowerName = "rta"
    unique_suffix: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{4}$")] | None = None
    allowed_locations: tuple[str, ...] = ("westeurope", "northeurope", "swedencentral", "germanywestcentral")
    tags: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$")], TagValue]
    network: NetworkConfig
    monitoring: MonitoringConfig
    key_vault: KeyVaultConfig = KeyVaultConfig()
    encryption: EncryptionConfig = EncryptionConfig()
    data_lake: DataLakeConfig = DataLakeConfig()
    ingestion: IngestionConfig = IngestionConfig()
    event_hubs: EventHubsConfig | None = None
    confluent: ConfluentConfig | None = None
    # The serving layer (Azure SQL, Power BI) and the Databricks SQL dashboards/alerts.
    sql: SqlConfig | None = None
    dashboards: DashboardsConfig | None = None
    # The processing layer: private workspace, Unity Catalog, the streaming jobs (stack_config/databricks.py).
    databricks: DatabricksConfig | None = None
    # Seed 002's API poller on Azure Functions (stack_config/producer.py).
    producer: ProducerConfig | None = None
    # Seeds 002/003's hot path: Azure Data Explorer fed from Event Hubs (stack_config/hot_path.py).
    hot_path: HotPathConfig | None = None
    lock: LockConfig = LockConfig()
    # Action group, alerts and budget (stack_config/operations.py); required in prod.
    operations: OperationsConfig | None = None
    # Defender for Cloud plans (subscription-wide); unset `enabled` means on in prod only.
    defender: DefenderConfig = DefenderConfig()
    # The load the stack is sized for (stack_config/capacity.py); required in prod, checked by the capacity model.
    capacity: CapacityConfig | None = None

    @model_validator(mode="after")
    def _cross_section(self) -> StackConfig:
        problems = cross_section_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _producer_and_hot_path_problems(self) -> list[str]:
        problems: list[str] = []
        if self.producer is not None and self.network.subnets.functions is None:
            problems.append("producer needs network.subnets.functions (the Function App's integration subnet)")
        if self.hot_path is not None:
            if self.databricks is None:
                # TradingSymbols() (hot_path/__init__.py) is generated from databricks.streaming.symbols.
                problems.append("hotPath needs databricks (its update policy keeps databricks.streaming.symbols only)")
            hub = None
            if self.event_hubs is not None:
                hub = next((h for h in self.event_hubs.hubs if h.name == self.ingestion.trades_stream), None)
            problems.extend(
                self.hot_path.stack_problems(
                    is_prod=self.is_prod,
                    customer_managed_keys=self.encryption.customer_managed_keys,
                    hub_consumer_groups=hub.consumer_groups if hub else None,
                )
            )
        return problems

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    @property
    def topology(self) -> Topology:
        if self.network.topology is not None:
            return self.network.topology
        return Topology.HUB_SPOKE if self.is_prod else Topology.SPOKE

    @property
    def defender_enabled(self) -> bool:
        return self.defender.enabled if self.defender.enabled is not None else self.is_prod

    def _network_problems(self) -> list[str]:
        problems = topology_problems(
            self.topology,
            self.network.hub,
            self.network.address_space,
            is_prod=self.is_prod,
            location=self.location,
            regions=allowlist_regions(),
        )
        public_confluent = self.confluent is not None and self.confluent.allow_public_networking
        if self.topology is Topology.HUB_SPOKE and public_confluent:
            # The firewall allows only hosts named before deploy (docs/network.md); a public cluster's Kafka
            # endpoints (TCP, not HTTPS) exist only once the cluster does, so nothing would let the jobs reach it.
            problems.append(
                "confluent.allowPublicNetworking true needs network.topology 'spoke': behind the hub firewall "
                "nothing allows Kafka to a public Confluent cluster; use Private Link (allowPublicNetworking false)"
            )
        return problems


# ----------------------------------------------------------------------------- cross-section rules
# Each rule reads only the sections it names. When some section is itself invalid, the loader
# runs the rules on the sections that are valid (`cross_section_problems(partial, skip_invalid=True)`):
# a rule that touches an invalid section is skipped, since that section's own error is reported.


def _location_and_tags(c: StackConfig) -> list[str]:
    problems: list[str] = []
    if c.location not in c.allowed_locations:
        problems.append(f"azure-native:location {c.location!r} is not in allowedLocations {list(c.allowed_locations)}")
    missing = [k for k in REQUIRED_TAG_KEYS if k not in c.tags]
    if missing:
        problems.append(f"tags is missing required keys {missing}")
    reserved = [k for k in RESERVED_TAG_KEYS if k in c.tags]
    if reserved:
        problems.append(f"tags must not set {reserved}; the program sets them")
    return problems


def _prod_customer_managed_keys(c: StackConfig) -> list[str]:
    return (
        ["encryption.customerManagedKeys must be true in prod"]
        if c.is_prod and not c.encryption.customer_managed_keys
        else []
    )


def _prod_private_log_query(c: StackConfig) -> list[str]:
    return (
        ["monitoring.allowPublicQuery must be false in prod"] if c.is_prod and c.monitoring.allow_public_query else []
    )


def _prod_lock(c: StackConfig) -> list[str]:
    return ["lock.enabled must be true in prod"] if c.is_prod and not c.lock.enabled else []


def _prod_private_monitoring_and_defender(c: StackConfig) -> list[str]:
    if not c.is_prod:
        return []
    problems: list[str] = []
    if not c.monitoring.private_link_scope:
        problems.append("monitoring.privateLinkScope must be true in prod")
    if not c.network.flow_logs.enabled:
        problems.append("network.flowLogs.enabled must be true in prod")
    if c.defender.enabled is False:
        problems.append("defender.enabled must not be false in prod")
    return problems


def _prod_zone_redundancy(c: StackConfig) -> list[str]:
    """Prod survives the loss of one availability zone: the lake and Event Hubs are zone-redundant."""
    if not c.is_prod:
        return []
    problems: list[str] = []
    if c.data_lake.replication not in ZONE_REDUNDANT_REPLICATION:
        problems.append(
            f"dataLake.replication {c.data_lake.replication.value!r} is not zone-redundant; prod needs one of "
            f"{[r.value for r in ZONE_REDUNDANT_REPLICATION]}"
        )
    return problems


def _event_hubs_zone_redundancy(c: StackConfig) -> list[str]:
    if c.is_prod and c.event_hubs is not None and not c.event_hubs.zone_redundant:
        return ["eventHubs.zoneRedundant must be true in prod"]
    return []


def _hsm_keys_need_premium_vault(c: StackConfig) -> list[str]:
    """Key Vault creates HSM-protected keys (RSA-HSM) only in the Premium tier.

    Source: https://learn.microsoft.com/azure/key-vault/keys/about-keys ("Software-protected
    keys ... Standard and Premium; HSM-protected keys ... Premium only").
    """
    if c.encryption.customer_managed_keys and c.encryption.key_type == "RSA-HSM" and c.key_vault.sku != "premium":
        return [f"encryption.keyType RSA-HSM needs keyVault.sku premium (a {c.key_vault.sku} vault refuses HSM keys)"]
    return []


def _ingestion(c: StackConfig) -> list[str]:
    problems: list[str] = []
    if c.ingestion.provider is IngestionProvider.EVENTHUBS:
        if c.event_hubs is None:
            problems.append("eventHubs is required when ingestion.provider is 'eventhubs'")
        elif c.ingestion.trades_stream not in [h.name for h in c.event_hubs.hubs]:
            problems.append(f"ingestion.tradesStream {c.ingestion.trades_stream!r} is not one of eventHubs.hubs")
    elif c.event_hubs is not None:
        problems.append("eventHubs must be absent when ingestion.provider is not 'eventhubs'")
    return problems


def _confluent(c: StackConfig) -> list[str]:
    if c.ingestion.provider is IngestionProvider.CONFLUENT:
        if c.confluent is None:
            return ["confluent is required when ingestion.provider is 'confluent'"]
        return confluent_stack_problems(c.confluent, is_prod=c.is_prod, trades_stream=c.ingestion.trades_stream)
    if c.confluent is not None:
        return ["confluent must be absent when ingestion.provider is not 'confluent'"]
    return []


def _sql(c: StackConfig) -> list[str]:
    if c.sql is not None:
        key_size = c.encryption.key_size if c.encryption.customer_managed_keys else None
        return c.sql.stack_problems(is_prod=c.is_prod, cmk_key_size=key_size, location=c.location)
    return ["sql is required in prod (the serving layer)"] if c.is_prod else []


def _databricks(c: StackConfig) -> list[str]:
    problems: list[str] = []
    if c.dashboards is not None and c.databricks is None:
        problems.append("dashboards needs databricks (the workspace its warehouse, dashboard and alerts live in)")
    if c.databricks is not None:
        problems.extend(
            c.databricks.environment_problems(
                is_prod=c.is_prod, customer_managed_keys=c.encryption.customer_managed_keys
            )
        )
    elif c.is_prod:
        problems.append("databricks is required in prod (the processing layer)")
    return problems


def _prod_operations(c: StackConfig) -> list[str]:
    """Prod is watched and its spend bounded: an action group, the alerts and a budget."""
    if not c.is_prod:
        return []
    if c.operations is None:
        return ["operations is required in prod (action group, alerts, budget)"]
    return c.operations.prod_problems()


CROSS_SECTION_RULES = (
    _location_and_tags,
    _prod_customer_managed_keys,
    _prod_private_log_query,
    _prod_lock,
    _prod_private_monitoring_and_defender,
    lambda c: c._network_problems(),
    _prod_zone_redundancy,
    _event_hubs_zone_redundancy,
    _hsm_keys_need_premium_vault,
    _ingestion,
    _confluent,
    _sql,
    _databricks,
    lambda c: c._producer_and_hot_path_problems(),
    _prod_operations,
    capacity_problems,
)


def cross_section_problems(config: StackConfig, *, skip_invalid: bool = False) -> list[str]:
    """Every cross-section rule's problems; with skip_invalid, rules reading a missing (invalid) section are skipped."""
    problems: list[str] = []
    for rule in CROSS_SECTION_RULES:
        try:
            problems.extend(rule(config))
        except AttributeError:
            if not skip_invalid:
                raise
    return problems


# Keys read from the project namespace, in the order they are documented.
TOP_LEVEL_KEYS: tuple[str, ...] = tuple(
    (field.alias or name) for name, field in StackConfig.model_fields.items() if name != "location"
)

_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
assert all(_CAMEL.match(k) for k in TOP_LEVEL_KEYS)
