"""Governance: required tags and allowed regions (catalogue rows GV-01, GV-02)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import AZ, CONFLUENT, Framework, Meta, Res, ZeroTrustResourcePolicy, is_unknown, lower

SVC = "governance"

# azure-native types the platform registers whose ARM resource takes tags. Any
# other azure-native resource that passes a `tags` input is judged as well.
TAGGABLE = frozenset(
    AZ + t
    for t in (
        "resources:ResourceGroup",
        "operationalinsights:Workspace",
        "network:VirtualNetwork",
        "network:NetworkSecurityGroup",
        "network:PrivateEndpoint",
        "network:NetworkInterface",
        "network:PublicIPAddress",
        "privatedns:PrivateZone",
        "privatedns:VirtualNetworkLink",
        "keyvault:Vault",
        "storage:StorageAccount",
        "eventhub:Namespace",
        "managedidentity:UserAssignedIdentity",
        "databricks:Workspace",
        "databricks:AccessConnector",
        "sql:Server",
        "sql:Database",
    )
)
_REGIONAL_CONFLUENT = {
    CONFLUENT + t
    for t in ("network:Network", "kafkaCluster:KafkaCluster", "privateLinkAttachment:PrivateLinkAttachment")
}


class _AnyAzureNative(frozenset[str]):
    """Type filter that admits every azure-native (and regional Confluent) token."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and (item.startswith(AZ) or item in _REGIONAL_CONFLUENT)


def _required_tags(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not r.type.startswith(AZ):
        return
    tags = r.get("tags")
    if r.type not in TAGGABLE and tags is None:
        return
    if is_unknown(tags):
        return
    present = {str(k).lower(): v for k, v in (tags or {}).items()} if isinstance(tags, Mapping) else {}
    missing = [k for k in config["requiredTags"] if str(k).lower() not in present]
    empty = [k for k in config["requiredTags"] if str(k).lower() in present and present[str(k).lower()] in ("", None)]
    if missing:
        yield f"missing required tag(s) {missing}."
    if empty:
        yield f"required tag(s) {empty} are empty."


def _normalise(region: str) -> str:
    return region.replace(" ", "").replace("-", "").lower()


def _allowed_regions(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = {_normalise(str(x)) for x in config["allowedRegions"]} | {"global"}
    if r.type.startswith(AZ):
        location = r.get("location")
        key = "location"
    else:
        if lower(r.get("cloud")) not in ("azure", None):
            return
        location = r.get("region")
        key = "region"
    if location is None or is_unknown(location):
        return
    if _normalise(str(location)) not in allowed:
        yield f"{key} {location!r} is not one of {sorted(allowed - {'global'})}."


required_tags = ZeroTrustResourcePolicy(
    Meta(
        name="required-tags",
        control="GV-01",
        service=SVC,
        severity=Severity.LOW,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Every taggable Azure resource carries the required tag keys (config requiredTags), with non-empty values."
        ),
        why=(
            "Ownership, cost centre and data classification tags are how an incident responder finds who owns a "
            "resource and how sensitive it is."
        ),
        remediation=(
            "Pass the platform's common tags to the resource (tags=...); tag keys are matched case-insensitively."
        ),
        framework=Framework("Azure Policy", "871b6d14", None, "Azure.Resource.RequiredTags"),
        config={
            "requiredTags": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "default": ["environment", "owner", "costCenter"],
                "description": "Tag keys every taggable resource must carry.",
            }
        },
    ),
    _AnyAzureNative(),
    _required_tags,
)

allowed_regions = ZeroTrustResourcePolicy(
    Meta(
        name="allowed-regions",
        control="GV-02",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Azure resources (and Azure-hosted Confluent networks and clusters) are deployed only to allowed regions "
            "(config allowedRegions)."
        ),
        why=(
            "Data residency: market data and derived analytics must stay in the jurisdictions the platform is "
            "approved for."
        ),
        remediation=(
            "Set location (or region) to one of the allowed regions; 'global' resources such as private DNS zones are "
            "always allowed."
        ),
        framework=Framework("Azure Policy", "e56962a6", None, "Azure.Resource.AllowedRegions"),
        config={
            "allowedRegions": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "default": ["westeurope", "northeurope", "swedencentral", "germanywestcentral"],
                "description": "Azure region names (case and spaces ignored).",
            }
        },
    ),
    _AnyAzureNative(),
    _allowed_regions,
)

POLICIES = [required_tags, allowed_regions]
