"""The per-region egress allow-list file: its schema (every region holds every entry, each with a
cited source), and the config error a hub-spoke stack in a region the file does not cover gets."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from offline.engine import StackProgramError, run_stack
from stack_config import ConfigError
from stack_config.egress import ALLOWLIST_FILE, AllowlistError, RegionEgress, allowlist_regions, parse_allowlist
from stack_config.network import Topology, topology_problems

ENTRIES = RegionEgress.entries()


def _raw() -> dict[str, Any]:
    return dict(yaml.safe_load(ALLOWLIST_FILE.read_text(encoding="utf-8")))


def test_every_region_holds_every_entry_each_with_a_defined_dated_source() -> None:
    raw = _raw()
    allowlist = parse_allowlist(raw)
    assert allowlist.regions, "the allow-list file covers no region"
    assert set(ENTRIES) >= {"sccRelay", "metastore", "artifactStorage", "eventHubs"}
    for name, region in raw["regions"].items():
        assert sorted(set(region) - {"sources"}) == sorted(ENTRIES), name
        for entry in ENTRIES:
            assert region[entry], f"{name}.{entry} is empty"
            cited = region["sources"][entry]
            assert cited, f"{name}.{entry} cites no source"
            for source in cited:
                assert allowlist.sources[source].url.startswith("https://"), (name, entry, source)
                assert allowlist.sources[source].read, (name, entry, source)


def _drop_entry(raw: dict[str, Any]) -> None:
    del raw["regions"]["westeurope"]["metastore"]


def _drop_citation(raw: dict[str, Any]) -> None:
    del raw["regions"]["westeurope"]["sources"]["eventHubs"]


def _empty_citation(raw: dict[str, Any]) -> None:
    raw["regions"]["westeurope"]["sources"]["sccRelay"] = []


def _undefined_source(raw: dict[str, Any]) -> None:
    raw["regions"]["westeurope"]["sources"]["logStorage"] = ["a-blog-post"]


def _undated_source(raw: dict[str, Any]) -> None:
    del raw["sources"]["udr"]["read"]


def _source_without_address(raw: dict[str, Any]) -> None:
    raw["sources"]["entra"]["url"] = "login.microsoftonline.com"


def _bad_region_name(raw: dict[str, Any]) -> None:
    raw["regions"]["West Europe"] = raw["regions"].pop("westeurope")


MUTATIONS: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_drop_entry, "regions.westeurope.metastore: Field required"),
    (_drop_citation, "regions.westeurope: Value error, sources names no source for ['eventHubs']"),
    (_empty_citation, "sources names no source for ['sccRelay']"),
    (_undefined_source, "regions.westeurope.sources.logStorage cites 'a-blog-post', which sources does not define"),
    (_undated_source, "sources.udr.read: Field required"),
    (_source_without_address, "sources.entra.url"),
    (_bad_region_name, "regions.West Europe"),
]


@pytest.mark.parametrize(("mutate", "expected"), MUTATIONS, ids=[m.__name__.strip("_") for m, _ in MUTATIONS])
def test_a_malformed_allow_list_is_refused_naming_where(
    mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    raw = copy.deepcopy(_raw())
    parse_allowlist(raw)  # the shipped file parses: the mutation alone breaks it
    mutate(raw)
    with pytest.raises(AllowlistError) as info:
        parse_allowlist(raw)
    assert expected in str(info.value), str(info.value)
    assert str(info.value).startswith("stack_config/egress_allowlist.yaml: "), str(info.value)


def test_hub_spoke_in_a_region_without_an_allow_list_is_a_config_error_naming_the_key() -> None:
    # An allowed location (allowedLocations default) that the allow-list file does not cover.
    location = "northeurope"
    assert location not in allowlist_regions()
    with pytest.raises(StackProgramError) as info:
        run_stack("prod", preview=True, config_overrides={"azure-native:location": location})
    assert isinstance(info.value.cause, ConfigError), repr(info.value.cause)
    message = str(info.value.cause)
    assert f"azure-native:location '{location}' has no egress allow-list" in message, message
    assert f"the firewall supports {sorted(allowlist_regions())}" in message, message
    assert "docs/network.md, 'Adding a region'" in message, message
    assert info.value.registered == 0, "resources were registered before the config was validated"


def test_a_spoke_needs_no_allow_list() -> None:
    """Only hub-spoke reads the file: a spoke (NAT egress) may sit in any allowed location."""
    kwargs: dict[str, Any] = {"is_prod": False, "location": "northeurope", "regions": allowlist_regions()}
    assert topology_problems(Topology.SPOKE, None, "10.50.0.0/16", **kwargs) == []
    hub_spoke = topology_problems(Topology.HUB_SPOKE, None, "10.50.0.0/16", **kwargs)
    assert any("azure-native:location 'northeurope' has no egress allow-list" in p for p in hub_spoke), hub_spoke


def test_the_network_doc_lists_exactly_the_covered_regions() -> None:
    text = (ALLOWLIST_FILE.parents[1] / "docs" / "network.md").read_text(encoding="utf-8")
    section = text.split("### Supported regions", 1)[1].split("\n### ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z0-9]+)` \|", section, flags=re.MULTILINE))
    assert listed, "docs/network.md has no supported-regions table"
    assert listed == allowlist_regions(), (listed, allowlist_regions())
