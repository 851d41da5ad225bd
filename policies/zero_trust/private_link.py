"""Private endpoints: which data service each endpoint serves, and its DNS registration.

Shared by the per-service "private endpoint exists" stack policies. On a first
preview every id is unknown, so an endpoint is tied to its target by the
dependency the engine records for `privateLinkServiceConnections` (the id is an
Output of the target); a concrete id, when known, matches too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._core import AZ, UNKNOWN, Graph, Meta, Node, ZeroTrustStackPolicy, as_list, dig, lower

PRIVATE_ENDPOINT = AZ + "network:PrivateEndpoint"
DNS_ZONE_GROUP = AZ + "network:PrivateDnsZoneGroup"
_CONNECTION_KEYS = ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections")


def endpoint_groups(graph: Graph, target: Node) -> set[str] | None:
    """Group ids of the endpoints that point at `target`; None means "some, not yet known"."""
    groups: set[str] = set()
    for pe in graph.of_type(PRIVATE_ENDPOINT):
        for key in _CONNECTION_KEYS:
            for conn in as_list(pe.get(key)):
                if conn is UNKNOWN:
                    if pe.depends_on(target, key):
                        return None
                    continue
                if not graph.refers_to(pe, target, key, dig(conn, "privateLinkServiceId")):
                    continue
                for group in as_list(dig(conn, "groupIds")):
                    if group is UNKNOWN:
                        return None
                    groups.add(str(lower(group)))
    return groups


def missing_private_endpoints(graph: Graph, target: Node, wanted: Iterable[str]) -> list[str]:
    """The wanted group ids no endpoint serves (any of the alternatives in a "a|b" entry will do)."""
    groups = endpoint_groups(graph, target)
    if groups is None:
        return []
    missing = []
    for entry in wanted:
        alternatives = {g.lower() for g in entry.split("|")}
        if not alternatives & groups:
            missing.append(entry)
    return missing


def private_endpoint_policy(
    meta: Meta, target_type: str, label: str, groups: Sequence[str] | Callable[[Node], Sequence[str]]
) -> ZeroTrustStackPolicy:
    """The "every <label> has private endpoints for `groups`" stack policy of one data service.

    `groups` lists the required group ids, or computes them from the target (storage adds "dfs" for a data lake).
    """

    def check(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
        for target in graph.of_type(target_type):
            wanted = groups(target) if callable(groups) else groups
            for group in missing_private_endpoints(graph, target, wanted):
                yield target.urn, f"{label} {target.name!r} has no private endpoint for group id {group!r}."

    return ZeroTrustStackPolicy(meta, check)
