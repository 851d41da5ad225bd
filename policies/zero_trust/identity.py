"""Identity: no standing privileged roles for workload identities (catalogue row ID-01)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import AZ, Meta, Res, is_unknown, mcsb, resource_policy

ROLE_ASSIGNMENT = AZ + "authorization:RoleAssignment"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
_NAMES = {OWNER: "Owner", USER_ACCESS_ADMINISTRATOR: "User Access Administrator", CONTRIBUTOR: "Contributor"}
_SERVICE_PRINCIPALS = {"serviceprincipal", "agentserviceprincipal"}
# Subscription, management group or tenant root: anything broader than a resource group.
_BROAD_SCOPE = re.compile(r"^(/|/subscriptions/[^/]+|/providers/microsoft\.management/managementgroups/[^/]+)/?$", re.I)
SVC = "identity"


def role_guid(r: Res) -> Any:
    value = r.get("roleDefinitionId")
    if not isinstance(value, str):
        return value
    return value.rstrip("/").rsplit("/", 1)[-1].lower()


@resource_policy(
    Meta(
        name="rbac-no-privileged-roles-for-service-principals",
        control="ID-01",
        service=SVC,
        severity=Severity.CRITICAL,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "No role assignment gives Owner or User Access Administrator to a service principal or managed identity "
            "(or to a principal whose principalType is not declared)."
        ),
        why=(
            "A workload identity that can grant roles can grant itself anything; its credentials live in pipelines "
            "and hosts, not in a person's head."
        ),
        remediation="Assign the narrow data-plane or resource role the workload needs; set principalType explicitly.",
        framework=mcsb("PA-7", anchors="BP rbac-least-privilege; Azure Policy a451c1ef"),
    ),
    [ROLE_ASSIGNMENT],
)
def no_privileged_roles_for_sps(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    guid = role_guid(r)
    if guid not in (OWNER, USER_ACCESS_ADMINISTRATOR):
        return
    kind = r.get("principalType")
    if is_unknown(kind):
        return
    if kind is None:
        yield f"{_NAMES[guid]} is assigned and principalType is not set, so the principal may be a service principal."
    elif str(kind).lower() in _SERVICE_PRINCIPALS:
        yield f"{_NAMES[guid]} is assigned to a {kind} ({r.get('principalId')})."


@resource_policy(
    Meta(
        name="rbac-no-subscription-contributor",
        control="ID-01",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="No role assignment grants Contributor at subscription, management-group or root scope.",
        why=(
            "Subscription-wide Contributor can delete every resource and read every key that management-plane access "
            "exposes."
        ),
        remediation="Scope the assignment to the resource group or resource, with the narrowest role that works.",
        framework=mcsb("PA-7", anchors="BP rbac-least-privilege; CIS aad-role-assignments"),
    ),
    [ROLE_ASSIGNMENT],
)
def no_subscription_contributor(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if role_guid(r) != CONTRIBUTOR:
        return
    scope = r.get("scope")
    if isinstance(scope, str) and _BROAD_SCOPE.match(scope.strip()):
        yield f"Contributor is assigned at scope {scope!r}."


POLICIES = [no_privileged_roles_for_sps, no_subscription_contributor]
