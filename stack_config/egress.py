"""The per-region egress allow-list (stack_config/egress_allowlist.yaml), loaded and validated once.

The file is data with its sources: `sources` names each public page the values come from, with its
address and the date it was read; every region names, for every entry, the sources that entry
comes from. A region missing an entry, an entry without a source, or a source the file does not
define is an error naming the region and the entry (docs/network.md, "Adding a region").
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, StringConstraints, ValidationError, model_validator

from stack_config.network import Fqdn
from stack_config.section import Section

ALLOWLIST_FILE = Path(__file__).with_name("egress_allowlist.yaml")

# An Azure region's programmatic name, as `azure-native:location` takes it (westeurope, eastus2).
RegionName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]+$")]
SourceId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]


class AllowlistSource(Section):
    """One public page the allow-list's values come from."""

    title: str = Field(min_length=1)
    url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")]
    # When it was read: YYYY-MM or YYYY-MM-DD.
    read: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")]


class RegionEgress(Section):
    """What Databricks classic compute in one region must reach outside the platform's private endpoints."""

    scc_relay: tuple[Fqdn, ...] = Field(min_length=1)
    control_plane_service_tag: str = Field(min_length=1)
    artifact_storage: tuple[Fqdn, ...] = Field(min_length=1)
    system_tables_storage: tuple[Fqdn, ...] = Field(min_length=1)
    log_storage: tuple[Fqdn, ...] = Field(min_length=1)
    metastore: tuple[Fqdn, ...] = Field(min_length=1)
    event_hubs: tuple[Fqdn, ...] = Field(min_length=1)
    # Microsoft Entra ID sign-in: token requests from the clusters to Azure resources ([udr]'s note).
    entra_id: tuple[Fqdn, ...] = Field(min_length=1)
    # Entry (camelCase, as in the file) -> the ids of the sources its values come from.
    sources: dict[str, tuple[SourceId, ...]]

    @classmethod
    def entries(cls) -> tuple[str, ...]:
        """The entries every region must hold, as the file spells them."""
        return tuple(f.alias or n for n, f in cls.model_fields.items() if n != "sources")

    @model_validator(mode="after")
    def _every_entry_cited(self) -> RegionEgress:
        entries = self.entries()
        unknown = sorted(set(self.sources) - set(entries))
        uncited = [e for e in entries if not self.sources.get(e)]
        problems = []
        if uncited:
            problems.append(f"sources names no source for {uncited}")
        if unknown:
            problems.append(f"sources names entries the region does not have: {unknown}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class EgressAllowlist(Section):
    sources: dict[SourceId, AllowlistSource] = Field(min_length=1)
    regions: dict[RegionName, RegionEgress] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources_defined(self) -> EgressAllowlist:
        problems = [
            f"regions.{region}.sources.{entry} cites {source!r}, which sources does not define"
            for region, egress in self.regions.items()
            for entry, ids in egress.sources.items()
            for source in ids
            if source not in self.sources
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class AllowlistError(ValueError):
    """The allow-list file is malformed: one line per problem, each naming the file and where in it."""


def parse_allowlist(raw: object, origin: str = "stack_config/egress_allowlist.yaml") -> EgressAllowlist:
    try:
        return EgressAllowlist.model_validate(raw)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
            lines.append(f"{origin}: {where}: {problem['msg']}")
        raise AllowlistError("\n".join(lines)) from None


@functools.cache
def load_allowlist(path: Path = ALLOWLIST_FILE) -> EgressAllowlist:
    with path.open(encoding="utf-8") as handle:
        return parse_allowlist(yaml.safe_load(handle), origin=str(path.relative_to(path.parents[1])))


def allowlist_regions() -> set[str]:
    return set(load_allowlist().regions)
