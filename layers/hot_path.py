"""Hot path: seeds 002 and 003's Kusto store, fed from the trades hub on its own consumer group.

Placed after ingestion (it reads the stream ingestion built) and the producers that write it. The
cluster runs as the platform's `kusto` identity, which the ingestion layer grants Azure Event Hubs
Data Receiver on the trades hub; its data connection waits for that grant. The schema is the KQL in
`hot_path/kql/` plus the generated `TradingSymbols()` (components/kusto_hot_path.py, docs/hot-path.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulumi_azure_native import kusto

from components.base import PrivateEndpointArgs
from components.kusto_hot_path import (
    CLUSTER_GROUP,
    INGESTION_STORAGE_ZONES,
    KUSTO_ZONE_KEY,
    DatabasePrincipalArgs,
    EventHubSourceArgs,
    KustoHotPath,
    KustoHotPathArgs,
    KustoScript,
)
from hot_path import database_scripts
from layers.foundation import Foundation
from layers.ingestion import HOT_PATH_READER, Ingestion
from layers.placement import Placement
from stack_config import StackConfig


@dataclass(frozen=True)
class HotPath:
    kusto: KustoHotPath | None
    database_name: str | None = None

    @property
    def outputs(self) -> dict[str, Any]:
        if self.kusto is None:
            return {}
        return {"hotPathClusterUri": self.kusto.cluster_uri, "hotPathDatabase": self.database_name}


def build_hot_path(config: StackConfig, place: Placement, foundation: Foundation, ingestion: Ingestion) -> HotPath:
    hot = config.hot_path
    if hot is None:
        return HotPath(None)
    hubs, databricks = ingestion.event_hubs, config.databricks
    if hubs is None or databricks is None:  # stack_config refuses both; kept for the type checker
        raise ValueError("hotPath needs ingestion.provider 'eventhubs' and databricks (the traded symbols)")
    naming, net = foundation.naming, foundation.network
    stream = config.ingestion.trades_stream
    identity = foundation.identities["kusto"]
    # One endpoint for group `cluster`, registered in the regional Kusto zone and the three storage zones
    # its ingestion FQDNs resolve in (components/kusto_hot_path.py cites the zone list).
    endpoint = PrivateEndpointArgs(
        subnet_id=net.subnet_id("private-endpoints"),
        private_dns_zone_id=net.dns_zone_id(KUSTO_ZONE_KEY),
        group_id=CLUSTER_GROUP,
        additional_dns_zones=tuple((key, net.dns_zone_id(key)) for key in INGESTION_STORAGE_ZONES),
    )
    return HotPath(
        KustoHotPath(
            place.name("hot-path"),
            KustoHotPathArgs(
                common=foundation.common,
                diagnostics=foundation.diagnostics,
                private_endpoints=(endpoint,),
                cluster_name=naming.name("dec", "kusto", unique=True),
                database_name=hot.database_name,
                sku=hot.sku,
                capacity=hot.capacity,
                zones=hot.zones,
                identity_id=identity.id,
                soft_delete_period=hot.retention,
                hot_cache_period=hot.hot_cache,
                scripts=[KustoScript(f.name, f.text) for f in database_scripts(databricks.streaming.symbols)],
                source=EventHubSourceArgs(
                    namespace_id=hubs.namespace.id,
                    hub_id=hubs.hubs[stream].id,
                    consumer_group=hot.consumer_group,
                    depends_on=(
                        hubs.role_assignments[HOT_PATH_READER],
                        hubs.consumer_groups[(stream, hot.consumer_group)],
                    ),
                ),
                double_encryption=hot.double_encryption,
                auto_stop=hot.auto_stop,
                customer_managed_key=foundation.vault.customer_managed_keys.get("kusto"),
                database_principals=[
                    DatabasePrincipalArgs(key, group.object_id, kusto.PrincipalType.GROUP, role, foundation.tenant_id)
                    for key, group, role in (
                        ("viewers", hot.viewers, kusto.DatabasePrincipalRole.VIEWER),
                        ("monitors", hot.monitors, kusto.DatabasePrincipalRole.MONITOR),
                    )
                    if group is not None
                ],
            ),
            place.opts(),
        ),
        hot.database_name,
    )
