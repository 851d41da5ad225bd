"""Azure SQL: Entra-only, TLS 1.2, private, encrypted, audited, watched (catalogue rows SQ-*)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    UNKNOWN,
    Graph,
    Meta,
    Node,
    Res,
    ZeroTrustResourcePolicy,
    as_bool,
    as_list,
    expect,
    is_set,
    is_unknown,
    lower,
    mcsb,
    resource_policy,
    set_top_level,
    stack_policy,
)
from .private_link import private_endpoint_policy

SERVER = AZ + "sql:Server"
DATABASE = AZ + "sql:Database"
FIREWALL_RULE = AZ + "sql:FirewallRule"
TDE = AZ + "sql:TransparentDataEncryption"
AAD_ONLY = AZ + "sql:ServerAzureADOnlyAuthentication"
AUDITING = (AZ + "sql:ServerBlobAuditingPolicy", AZ + "sql:ExtendedServerBlobAuditingPolicy")
ALERTS = AZ + "sql:ServerSecurityAlertPolicy"
PROTECTOR = AZ + "sql:EncryptionProtector"
SVC = "sql"


def _server_children(graph: Graph, server: Node, types: tuple[str, ...] | list[str]) -> list[Node]:
    return graph.children(server, list(types), "serverName", "serverName")


@resource_policy(
    Meta(
        name="sql-entra-only-auth",
        control="SQ-01",
        service=SVC,
        severity=Severity.CRITICAL,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "SQL servers authenticate with Microsoft Entra ID only: an Entra admin with "
            "azureADOnlyAuthentication=true and no SQL admin login."
        ),
        why=(
            "SQL logins are passwords the platform would have to store and rotate; Entra-only removes them, and it "
            "must be set at creation."
        ),
        remediation=(
            'Set administrators={"administratorType": "ActiveDirectory", "login": ..., "sid": ..., '
            '"azureADOnlyAuthentication": true} and remove administratorLogin/administratorLoginPassword.'
        ),
        framework=mcsb("IM-1", anchors="Azure Policy abda6d70; CKV2_AZURE_27; Azure.SQL.AADOnly"),
    ),
    [SERVER, AAD_ONLY],
)
def entra_only_auth(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if r.type == AAD_ONLY:
        if as_bool(r.get("azureADOnlyAuthentication")) is False:
            yield "azureADOnlyAuthentication is false: SQL logins are accepted."
        return
    if r.get("administrators") is None:
        yield "administrators is not set: the server has no Microsoft Entra admin."
    else:
        only = as_bool(r.get("administrators.azureADOnlyAuthentication"))
        if only is None or only is False:
            yield "administrators.azureADOnlyAuthentication is not true: SQL logins are accepted."
        kind = r.get("administrators.administratorType")
        if kind is not None and not is_unknown(kind) and kind != "ActiveDirectory":
            yield f"administrators.administratorType is {kind!r}."
    for key in ("administratorLogin", "administratorLoginPassword"):
        if r.get(key) is not None:
            yield f"{key} is set: a SQL authentication admin exists."


min_tls = ZeroTrustResourcePolicy(
    Meta(
        name="sql-min-tls",
        control="SQ-02",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='SQL servers require TLS 1.2 or later (minimalTlsVersion "1.2" or "1.3").',
        why='"None" or a missing value lets clients negotiate TLS 1.0/1.1.',
        remediation='Set minimalTlsVersion="1.2".',
        framework=mcsb("DP-3", anchors="Azure Policy 32e6bbec; CKV_AZURE_52; Azure.SQL.MinTLS; Trivy AZU-0026"),
    ),
    [SERVER],
    expect("minimalTlsVersion", ("1.2", "1.3"), normalise=str, when_missing=""),
    fix=set_top_level("minimalTlsVersion", "1.2", unless=lambda v: v in ("1.2", "1.3")),
)


public_network_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="sql-public-network-disabled",
        control="SQ-03",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='SQL servers disable public network access (publicNetworkAccess "Disabled").',
        why=(
            "The public endpoint accepts connections from any network its firewall rules allow; a missing value "
            "leaves it on."
        ),
        remediation='Set publicNetworkAccess="Disabled" and connect through the sqlServer private endpoint.',
        framework=mcsb("NS-2", anchors="Azure Policy 1b8ca024; CKV_AZURE_113; Trivy AZU-0022"),
    ),
    [SERVER],
    expect(
        "publicNetworkAccess",
        ("Disabled", "SecuredByPerimeter"),
        when_missing="; Azure then enables the public endpoint",
    ),
)


@resource_policy(
    Meta(
        name="sql-no-firewall-rules",
        control="SQ-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "No SQL server firewall rules: no allow-all range, no 'Allow Azure services' (0.0.0.0), no public ranges."
        ),
        why=(
            "Firewall rules only matter for the public endpoint; a zero-trust server has none, and 0.0.0.0 admits "
            "every Azure tenant."
        ),
        remediation="Delete the sql:FirewallRule and connect through the private endpoint.",
        framework=mcsb(
            "NS-2", anchors="CKV_AZURE_11; Azure.SQL.FirewallIPRange; Azure.SQL.AllowAzureAccess; Trivy AZU-0029"
        ),
    ),
    [FIREWALL_RULE],
)
def no_firewall_rules(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    start, end = r.get("startIpAddress"), r.get("endIpAddress")
    if start == "0.0.0.0" and end == "0.0.0.0":
        yield "the rule is 'Allow Azure services' (0.0.0.0): any Azure tenant's resources can connect."
    elif start == "0.0.0.0" and end == "255.255.255.255":
        yield "the rule admits the whole Internet (0.0.0.0-255.255.255.255)."
    else:
        yield f"the rule opens the public endpoint to {start}-{end}."


tde_enabled = ZeroTrustResourcePolicy(
    Meta(
        name="sql-tde-enabled",
        control="SQ-05",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Transparent data encryption stays on (no TransparentDataEncryption with state "Disabled").',
        why="TDE is on by default for new databases; turning it off leaves data files, backups and logs in clear text.",
        remediation='Set state="Enabled" or remove the sql:TransparentDataEncryption resource.',
        framework=mcsb("DP-4", anchors="CKV2_AZURE_25; Azure.SQL.TDE"),
    ),
    [TDE],
    expect("state", ("enabled",), normalise=lower),
)


def _auditing_problems(policy: Node) -> list[str]:
    problems = []
    state = policy.get("state")
    if not is_unknown(state) and lower(state) != "enabled":
        problems.append(f"state is {state!r}")
    monitor = as_bool(policy.get("isAzureMonitorTargetEnabled"))
    if monitor is None or monitor is False:
        problems.append("isAzureMonitorTargetEnabled is not true (audit events do not reach Log Analytics)")
    days = policy.get("retentionDays")
    if isinstance(days, (int, float)) and 0 < days < 90:
        problems.append(f"retentionDays is {int(days)} (at least 90, or 0 for unlimited)")
    return problems


@stack_policy(
    Meta(
        name="sql-auditing",
        control="SQ-07",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Every SQL server has server-level auditing enabled to Azure Monitor (state Enabled, "
            "isAzureMonitorTargetEnabled, retention >= 90 days or unlimited)."
        ),
        why=(
            "Auditing records every login and query against the data; database-level settings alone miss new databases."
        ),
        remediation=(
            'Add sql:ServerBlobAuditingPolicy (or Extended...) with serverName=<server name>, state="Enabled", '
            "isAzureMonitorTargetEnabled=true."
        ),
        framework=mcsb("LT-3", anchors="Azure Policy a6fb4358; CKV_AZURE_23; Azure.SQL.Auditing; Trivy AZU-0027"),
    )
)
def auditing(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for server in graph.of_type(SERVER):
        policies = _server_children(graph, server, AUDITING)
        if not policies:
            yield server.urn, f"SQL server {server.name!r} has no server auditing policy."
            continue
        if all(_auditing_problems(p) for p in policies):
            for p in policies:
                yield (
                    p.urn,
                    f"auditing policy {p.name!r} of server {server.name!r}: " + "; ".join(_auditing_problems(p)) + ".",
                )


@stack_policy(
    Meta(
        name="sql-threat-protection",
        control="SQ-08",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Every SQL server has Advanced Threat Protection on (ServerSecurityAlertPolicy state Enabled, no alerts "
            "disabled)."
        ),
        why=(
            "Threat protection flags SQL injection, brute force and anomalous access that identity controls alone do "
            "not see."
        ),
        remediation=(
            'Add sql:ServerSecurityAlertPolicy with serverName=<server name>, state="Enabled" and no disabledAlerts.'
        ),
        framework=mcsb("LT-1", anchors="Azure Policy abfb4388; CKV2_AZURE_13; Azure.SQL.DefenderCloud; Trivy AZU-0028"),
    )
)
def threat_protection(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for server in graph.of_type(SERVER):
        policies = _server_children(graph, server, [ALERTS])
        if not policies:
            yield server.urn, f"SQL server {server.name!r} has no security alert policy."
            continue
        for p in policies:
            state = p.get("state")
            if not is_unknown(state) and lower(state) != "enabled":
                yield p.urn, f"security alert policy {p.name!r} state is {state!r}."
            disabled = [a for a in as_list(p.get("disabledAlerts")) if a not in ("", None, UNKNOWN)]
            if disabled:
                yield p.urn, f"security alert policy {p.name!r} disables alerts {disabled}."


private_endpoint = private_endpoint_policy(
    Meta(
        name="sql-private-endpoint",
        control="SQ-10",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Every SQL server has a private endpoint (group id "sqlServer").',
        why=(
            "With the public endpoint disabled, the private endpoint is the only route for applications and dashboards."
        ),
        remediation=(
            "Add a network:PrivateEndpoint with privateLinkServiceConnections=[{privateLinkServiceId: <server id>, "
            'groupIds: ["sqlServer"]}].'
        ),
        framework=mcsb("NS-2", anchors="Azure Policy 7698e800; CKV2_AZURE_45"),
    ),
    SERVER,
    "SQL server",
    ["sqlServer"],
)


@stack_policy(
    Meta(
        name="sql-tde-customer-managed-key",
        control="SQ-06",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "SQL servers protect TDE with a customer-managed key (keyId set, or an EncryptionProtector of type "
            '"AzureKeyVault").'
        ),
        why="A platform-owned TDE protector can be revoked to render the databases and backups unreadable.",
        remediation=(
            "Set keyId to a Key Vault key URI (with a user-assigned identity), or add sql:EncryptionProtector "
            'serverKeyType="AzureKeyVault".'
        ),
        framework=mcsb("DP-5", anchors="Azure Policy 0a370ff3"),
    )
)
def tde_customer_managed_key(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for server in graph.of_type(SERVER):
        if is_set(server.get("keyId")):
            continue
        protectors = _server_children(graph, server, [PROTECTOR])
        kinds = {p.get("serverKeyType") for p in protectors}
        if "AzureKeyVault" in kinds or UNKNOWN in kinds:
            continue
        yield server.urn, f"SQL server {server.name!r} uses a service-managed TDE key."


restrict_outbound = ZeroTrustResourcePolicy(
    Meta(
        name="sql-restrict-outbound",
        control="SQ-11",
        service=SVC,
        severity=Severity.LOW,
        enforcement=EnforcementLevel.ADVISORY,
        description='SQL servers restrict outbound network access (restrictOutboundNetworkAccess "Enabled").',
        why="Limits exfiltration through features that make the server call out (linked servers, external tables).",
        remediation='Set restrictOutboundNetworkAccess="Enabled" and add outbound FQDN rules only as needed.',
        framework=None,
    ),
    [SERVER],
    expect("restrictOutboundNetworkAccess", ("Enabled",), unset="not set (Disabled)"),
)


POLICIES = [
    entra_only_auth,
    min_tls,
    public_network_disabled,
    no_firewall_rules,
    tde_enabled,
    auditing,
    threat_protection,
    private_endpoint,
    tde_customer_managed_key,
    restrict_outbound,
]
