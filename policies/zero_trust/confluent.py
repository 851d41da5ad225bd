"""Confluent Cloud (pulumi-confluentcloud): private networking, scoped RBAC and ACLs, service-account keys (CC-*).

No public rule set covers Confluent; these follow the provider's own inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    CONFLUENT,
    UNKNOWN,
    Graph,
    Meta,
    Node,
    Res,
    ZeroTrustResourcePolicy,
    as_list,
    dig,
    expect,
    is_set,
    is_unknown,
    lower,
    resource_policy,
    stack_policy,
)

ENVIRONMENT = CONFLUENT + "environment:Environment"
NETWORK = CONFLUENT + "network:Network"
CLUSTER = CONFLUENT + "kafkaCluster:KafkaCluster"
PRIVATE_LINK_ACCESS = CONFLUENT + "privateLinkAccess:PrivateLinkAccess"
PRIVATE_LINK_ATTACHMENT = CONFLUENT + "privateLinkAttachment:PrivateLinkAttachment"
ACL = CONFLUENT + "kafkaAcl:KafkaAcl"
ROLE_BINDING = CONFLUENT + "roleBinding:RoleBinding"
API_KEY = CONFLUENT + "apiKey:ApiKey"
SVC = "confluent"


def _same_environment(graph: Graph, a: Node, b: Node) -> bool:
    """Two resources in one Confluent environment: same concrete id or the same Environment resource."""
    ida, idb = a.get("environment.id"), b.get("environment.id")
    if isinstance(ida, str) and isinstance(idb, str) and not is_unknown(ida) and not is_unknown(idb):
        return ida == idb
    envs = graph.of_type(ENVIRONMENT)
    return any(a.depends_on(env, "environment") and b.depends_on(env, "environment") for env in envs)


@stack_policy(
    Meta(
        name="confluent-private-networking",
        control="CC-01",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Kafka is reachable only privately: networks use PRIVATELINK only, no Basic/Standard (public) clusters, "
            "Dedicated clusters sit on a network, Enterprise/Freight clusters have a Private Link attachment in their "
            "environment, "
            "and Private Link access names the Azure subscription."
        ),
        why="Basic and Standard clusters have Internet-facing bootstrap endpoints; the market-data stream must not.",
        remediation=(
            'Use a Dedicated cluster with network={"id": <Network with connectionTypes ["PRIVATELINK"]>} and a '
            "PrivateLinkAccess "
            "for the platform subscription, or an Enterprise cluster with a PrivateLinkAttachment."
        ),
        framework=None,
        config={
            "allowedConnectionTypes": {
                "type": "array",
                "items": {"type": "string", "enum": ["PRIVATELINK", "PEERING", "TRANSITGATEWAY"]},
                "default": ["PRIVATELINK"],
                "description": "Network connection types considered private enough.",
            }
        },
    )
)
def private_networking(graph: Graph, config: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    allowed = set(config["allowedConnectionTypes"])
    for net in graph.of_type(NETWORK):
        types = as_list(net.get("connectionTypes"))
        if UNKNOWN in types:
            continue
        if not types:
            yield net.urn, f"network {net.name!r} sets no connectionTypes."
        elif set(types) - allowed:
            yield net.urn, f"network {net.name!r} allows connection types {sorted(set(types) - allowed)}."
    attachments = graph.of_type(PRIVATE_LINK_ATTACHMENT)
    for cluster in graph.of_type(CLUSTER):
        for public in ("basic", "standard"):
            if cluster.get(public) is not None:
                yield cluster.urn, f"cluster {cluster.name!r} is a {public.title()} cluster: its endpoints are public."
        if cluster.get("dedicated") is not None and not is_set(cluster.get("network.id")):
            yield cluster.urn, f"Dedicated cluster {cluster.name!r} has no network.id: it gets public endpoints."
        serverless = as_list(cluster.get("enterprises")) or as_list(cluster.get("freights"))
        if serverless and not any(_same_environment(graph, cluster, a) for a in attachments):
            yield cluster.urn, f"cluster {cluster.name!r} has no PrivateLinkAttachment in its environment."
    for access in graph.of_type(PRIVATE_LINK_ACCESS):
        if not is_set(access.get("azure.subscription")):
            yield (
                access.urn,
                f"PrivateLinkAccess {access.name!r} does not name the Azure subscription allowed to connect.",
            )


_ADMIN_ROLES = {"OrganizationAdmin", "EnvironmentAdmin", "CloudClusterAdmin", "AccountAdmin", "NetworkAdmin"}
_MANAGE_ROLES = {"ResourceOwner", "DeveloperManage"}


@resource_policy(
    Meta(
        name="confluent-rbac-least-privilege",
        control="CC-03",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Role bindings grant no organization/environment/cluster admin roles (outside an allow-list), and no "
            "ResourceOwner/DeveloperManage on wildcard topic or group patterns."
        ),
        why="An admin binding for a service account turns one leaked API key into control of every cluster and topic.",
        remediation=(
            "Bind DeveloperRead/DeveloperWrite on the specific topics and consumer groups (crnPattern "
            ".../topic=<name>)."
        ),
        framework=None,
        config={
            "adminPrincipals": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Principals (User:<id>) allowed admin roles.",
            }
        },
    ),
    [ROLE_BINDING],
)
def rbac_least_privilege(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
    role, principal, crn = r.get("roleName"), r.get("principal"), r.get("crnPattern")
    if is_unknown(role):
        return
    if role in _ADMIN_ROLES and not (isinstance(principal, str) and principal in set(config["adminPrincipals"])):
        yield f"roleName {role!r} is an admin role."
    if role in _MANAGE_ROLES and isinstance(crn, str) and crn.rstrip("/").endswith("=*"):
        yield f"roleName {role!r} on wildcard pattern {crn!r}."


@resource_policy(
    Meta(
        name="confluent-no-wildcard-acls",
        control="CC-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Kafka ACLs never ALLOW a wildcard resource ('*' or an empty prefix), a wildcard principal (User:*), or "
            "ALL on the cluster."
        ),
        why="A wildcard ALLOW ACL gives every current and future topic or principal the permission.",
        remediation=(
            "Name the topic or prefix and the service account (User:sa-...) and the operations (READ, WRITE, "
            "DESCRIBE) needed."
        ),
        framework=None,
    ),
    [ACL],
)
def no_wildcard_acls(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if lower(r.get("permission")) != "allow":
        return
    name, pattern, principal = r.get("resourceName"), lower(r.get("patternType")), r.get("principal")
    if name == "*" or (pattern == "prefixed" and name == ""):
        yield f"the ACL allows {r.get('operation')} on every {lower(r.get('resourceType'))} ({name!r}, {pattern})."
    if principal in ("User:*", "*"):
        yield f"the ACL allows {r.get('operation')} to every principal ({principal!r})."
    if lower(r.get("resourceType")) == "cluster" and lower(r.get("operation")) == "all":
        yield "the ACL allows ALL operations on the cluster."


api_key_service_account = ZeroTrustResourcePolicy(
    Meta(
        name="confluent-api-key-service-account",
        control="CC-05",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description='API keys are owned by service accounts (owner.kind "ServiceAccount"), never by users.',
        why="A user-owned key carries that person's permissions and dies (or worse, survives) with their account.",
        remediation="Set owner={id: <ServiceAccount id>, apiVersion: 'iam/v2', kind: 'ServiceAccount'}.",
        framework=None,
    ),
    [API_KEY],
    expect("owner.kind", ("ServiceAccount",), when_missing=": the key's owner is not a declared service account"),
)


cluster_resilience = ZeroTrustResourcePolicy(
    Meta(
        name="confluent-cluster-resilience",
        control="CC-06",
        service=SVC,
        severity=Severity.LOW,
        enforcement=EnforcementLevel.ADVISORY,
        description="Kafka clusters are multi-zone (availability MULTI_ZONE or HIGH).",
        why="A single-zone cluster loses the stream with one Azure zone outage.",
        remediation='Set availability="MULTI_ZONE".',
        framework=None,
    ),
    [CLUSTER],
    expect("availability", ("MULTI_ZONE", "HIGH")),
)


@resource_policy(
    Meta(
        name="confluent-cluster-byok",
        control="CC-02",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description="Dedicated Kafka clusters encrypt with a customer key from Azure Key Vault (byokKey.id).",
        why="A platform-owned key can be revoked to make the cluster's stored events unreadable.",
        remediation=(
            "Create a confluentcloud.ByokKey for a Key Vault key and set byokKey={id: ...} when creating the cluster."
        ),
        framework=None,
    ),
    [CLUSTER],
)
def cluster_byok(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if r.get("dedicated") is not None and not is_set(dig(r.props, "byokKey.id")):
        yield "byokKey.id is not set."


POLICIES = [
    private_networking,
    rbac_least_privilege,
    no_wildcard_acls,
    api_key_service_account,
    cluster_resilience,
    cluster_byok,
]
