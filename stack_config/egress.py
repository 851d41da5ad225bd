"""The per-region egress allow-list (stack_config/egress_allowlist.yaml), loaded and validated once."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import Field

from stack_config.network import Fqdn
from stack_config.section import Section

ALLOWLIST_FILE = Path(__file__).with_name("egress_allowlist.yaml")


class RegionEgress(Section):
    """What Databricks classic compute in one region must reach outside the platform's private endpoints."""

    scc_relay: tuple[Fqdn, ...] = Field(min_length=1)
    control_plane_service_tag: str = "AzureDatabricks"
    artifact_storage: tuple[Fqdn, ...] = Field(min_length=1)
    system_tables_storage: tuple[Fqdn, ...] = Field(min_length=1)
    log_storage: tuple[Fqdn, ...] = Field(min_length=1)
    metastore: tuple[Fqdn, ...] = Field(min_length=1)
    event_hubs: tuple[Fqdn, ...] = Field(min_length=1)
    # Microsoft Entra ID sign-in: token requests from the clusters to Azure resources ([udr]'s note).
    entra_id: tuple[Fqdn, ...] = Field(min_length=1)


class EgressAllowlist(Section):
    regions: dict[str, RegionEgress]


@functools.cache
def load_allowlist(path: Path = ALLOWLIST_FILE) -> EgressAllowlist:
    with path.open(encoding="utf-8") as handle:
        return EgressAllowlist.model_validate(yaml.safe_load(handle))


def allowlist_regions() -> set[str]:
    return set(load_allowlist().regions)
