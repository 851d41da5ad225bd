"""Unity Catalog for the platform: credentials, locations, the medallion catalog.

The region's metastore already exists (one per region per account); the
workspace component assigns it (`DatabricksWorkspace._metastore`) and this
component hangs everything off that assignment (through `depends_on`), so no
Unity Catalog object is ever created against a workspace without a metastore.
Storage access goes through the workspace's access connector (a managed
identity: no keys, no client secrets). Catalog,
credentials and locations are isolated to this workspace.

Grants are authoritative per securable (`databricks.Grants`): a privilege
granted by hand is removed on the next deploy. Groups only read; the jobs'
service principal is the only writer; nobody gets ALL_PRIVILEGES.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as dbx

from components.base import CommonArgs, ProviderScopedComponent

LAYERS = ("bronze", "silver", "gold")
LOCATIONS = (*LAYERS, "checkpoints")
# The runtime smoke job's scratch schema (streaming_jobs/jobs/smoke.py): written by the jobs' service
# principal only, read by no group, its tables created and dropped by each smoke run. Stored under gold's
# location: no location of its own.
SCRATCH_SCHEMA = "smoke"

# What each principal role may do, per securable. The writer is the jobs' service principal.
WRITER_SCHEMA_PRIVILEGES = ("USE_SCHEMA", "SELECT", "MODIFY", "CREATE_TABLE")
READER_SCHEMA_PRIVILEGES = ("USE_SCHEMA", "SELECT")
# Which schemas each group role reads.
READS: dict[str, tuple[str, ...]] = {
    "consumers": ("gold",),
    "analysts": ("silver", "gold"),
    "engineers": ("bronze", "silver", "gold"),
}


@dataclass(frozen=True)
class CatalogGroups:
    """Account groups per read role (see READS)."""

    consumers: Sequence[str] = ()
    analysts: Sequence[str] = ()
    engineers: Sequence[str] = ()

    def members(self, role: str) -> Sequence[str]:
        groups: Sequence[str] = getattr(self, role)
        return groups


@dataclass(frozen=True)
class UnityCatalogArgs:
    common: CommonArgs
    provider: dbx.Provider
    catalog_name: str
    access_connector_id: pulumi.Input[str]
    # The user-assigned identity on the access connector (it holds the lake and Event Hubs roles).
    managed_identity_id: pulumi.Input[str]
    # Container-root URLs, "abfss://<container>@<account>.dfs.core.windows.net/", for LOCATIONS.
    location_urls: Mapping[str, str]
    # Application id of the service principal the jobs run as: the only writer.
    writer: pulumi.Input[str]
    groups: CatalogGroups = CatalogGroups()
    # A Unity Catalog service credential for the processor identity: the Kafka source on Event Hubs
    # and the gold job's Azure SQL connection get Entra tokens through it (no secret anywhere).
    service_credential: bool = True
    # What must exist before the first call to the workspace (private endpoints, key grants).
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class UnityCatalog(ProviderScopedComponent):
    """`assignment`, `catalog`, `schemas[layer]`, `locations[key]`, `service_credential`; `ready` = all grants."""

    def __init__(self, name: str, args: UnityCatalogArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("UnityCatalog", name, args.common, args.provider, opts)
        missing = [k for k in LOCATIONS if k not in args.location_urls]
        if missing:
            raise ValueError(f"{name}: location_urls lacks {missing}")
        catalog = args.catalog_name

        # The workspace's metastore assignment lives with the workspace (`DatabricksWorkspace._metastore`):
        # it must precede the deployer's admin assignment, which precedes every workspace call. It arrives
        # here in `depends_on` (the workspace's `ready`), which every object below waits for.
        after_assignment: list[pulumi.Resource] = list(args.depends_on)
        self._after_assignment = after_assignment

        self.storage_credential = dbx.StorageCredential(
            f"{name}-lake-credential",
            name=f"{catalog}_lake",
            comment="Medallion lake, through the workspace's access connector (managed identity)",
            azure_managed_identity=dbx.StorageCredentialAzureManagedIdentityArgs(
                access_connector_id=args.access_connector_id, managed_identity_id=args.managed_identity_id
            ),
            isolation_mode="ISOLATION_MODE_ISOLATED",
            opts=self._db_opts(after_assignment),
        )

        self.service_credential: dbx.Credential | None = None
        if args.service_credential:
            self.service_credential = dbx.Credential(
                f"{name}-processor-credential",
                name=f"{catalog}_processor",
                purpose="SERVICE",
                comment="Entra tokens of the access connector's identity: Event Hubs (Kafka source), Azure SQL (gold)",
                azure_managed_identity=dbx.CredentialAzureManagedIdentityArgs(
                    access_connector_id=args.access_connector_id, managed_identity_id=args.managed_identity_id
                ),
                isolation_mode="ISOLATION_MODE_ISOLATED",
                opts=self._db_opts(after_assignment),
            )

        self.locations: dict[str, dbx.ExternalLocation] = {}
        for key in LOCATIONS:
            self.locations[key] = dbx.ExternalLocation(
                f"{name}-location-{key}",
                name=f"{catalog}_{key}",
                url=args.location_urls[key],
                credential_name=self.storage_credential.name,
                comment=f"The lake's {key} container",
                isolation_mode="ISOLATION_MODE_ISOLATED",
                opts=self._db_opts([*after_assignment, self.storage_credential]),
            )

        # Managed tables live in the layer's container, under the catalog's name.
        self.catalog = dbx.Catalog(
            f"{name}-catalog",
            name=catalog,
            comment="Real-time analytics medallion: bronze (raw), silver (clean), gold (served)",
            storage_root=f"{args.location_urls['gold']}{catalog}/_catalog",
            isolation_mode="ISOLATED",
            opts=self._db_opts([*after_assignment, self.locations["gold"]]),
        )
        self.schemas: dict[str, dbx.Schema] = {}
        for layer in LAYERS:
            self.schemas[layer] = dbx.Schema(
                f"{name}-schema-{layer}",
                catalog_name=self.catalog.name,
                name=layer,
                comment=f"{layer} layer",
                storage_root=f"{args.location_urls[layer]}{catalog}/{layer}",
                opts=self._db_opts([*after_assignment, self.catalog, self.locations[layer]]),
            )
        self.schemas[SCRATCH_SCHEMA] = dbx.Schema(
            f"{name}-schema-{SCRATCH_SCHEMA}",
            catalog_name=self.catalog.name,
            name=SCRATCH_SCHEMA,
            comment="scratch tables of the runtime smoke job, dropped after each run",
            storage_root=f"{args.location_urls['gold']}{catalog}/{SCRATCH_SCHEMA}",
            opts=self._db_opts([*after_assignment, self.catalog, self.locations["gold"]]),
        )

        self.grants: list[dbx.Grants] = []
        readers = sorted({g for role in READS for g in args.groups.members(role)})
        self._grant(
            f"{name}-grants-catalog",
            {"catalog": self.catalog.name},
            [(args.writer, ("USE_CATALOG",))] + [(g, ("USE_CATALOG",)) for g in readers],
            self.catalog,
        )
        for layer, schema in self.schemas.items():
            entries: list[tuple[pulumi.Input[str], Sequence[str]]] = [(args.writer, WRITER_SCHEMA_PRIVILEGES)]
            for role, layers in READS.items():
                if layer in layers:
                    entries += [(g, READER_SCHEMA_PRIVILEGES) for g in args.groups.members(role)]
            full_name = pulumi.Output.concat(self.catalog.name, ".", schema.name)
            self._grant(f"{name}-grants-schema-{layer}", {"schema": full_name}, entries, schema)
        # Checkpoints are plain files the jobs' streams own: read and write for the writer only.
        self._grant(
            f"{name}-grants-location-checkpoints",
            {"external_location": self.locations["checkpoints"].name},
            [(args.writer, ("READ_FILES", "WRITE_FILES"))],
            self.locations["checkpoints"],
        )
        if self.service_credential is not None:
            self._grant(
                f"{name}-grants-processor-credential",
                {"credential": self.service_credential.name},
                [(args.writer, ("ACCESS",))],
                self.service_credential,
            )
        self.ready: list[pulumi.Resource] = [*after_assignment, *self.grants]

        self.register_outputs(
            {
                "catalog": self.catalog.name,
                "schemas": {k: v.name for k, v in self.schemas.items()},
                "locations": {k: v.url for k, v in self.locations.items()},
            }
        )

    def _grant(
        self,
        logical_name: str,
        securable: Mapping[str, pulumi.Input[str]],
        entries: Sequence[tuple[pulumi.Input[str], Sequence[str]]],
        target: pulumi.Resource,
    ) -> None:
        """Authoritative grants on one securable; privileges per principal are merged, never ALL_PRIVILEGES."""
        merged: list[tuple[pulumi.Input[str], list[str]]] = []
        by_group: dict[str, list[str]] = {}
        for principal, privileges in entries:
            if isinstance(principal, str) and principal in by_group:
                existing = by_group[principal]
            else:
                existing = []
                merged.append((principal, existing))
                if isinstance(principal, str):
                    by_group[principal] = existing
            existing.extend(p for p in privileges if p not in existing)
        for _, privileges in merged:
            if "ALL_PRIVILEGES" in privileges or "MANAGE" in privileges:
                raise ValueError(f"{logical_name}: ALL_PRIVILEGES/MANAGE are never granted")
        self.grants.append(
            dbx.Grants(
                logical_name,
                grants=[dbx.GrantsGrantArgs(principal=p, privileges=sorted(privs)) for p, privs in merged],
                **securable,  # type: ignore[arg-type]
                opts=self._db_opts([*self._after_assignment, target]),
            )
        )
