"""Function apps and Application Insights: private, keyless, TLS 1.2 (catalogue rows FN-*, new with the API poller).

The catalogue (shared/zero-trust-controls.md) predates the producer compute, so these
rows are the pack's own, anchored on Azure Policy's App Service / Functions built-ins
and the Microsoft cloud security benchmark.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    Framework,
    Graph,
    Meta,
    Res,
    ZeroTrustResourcePolicy,
    ZeroTrustStackPolicy,
    all_of,
    as_bool,
    as_list,
    dig,
    expect,
    expect_flag,
    is_set,
    is_unknown,
    lower,
    mcsb,
    must_be_true,
    stack_policy,
)
from .private_link import private_endpoint_policy

WEB_APP = AZ + "web:WebApp"
FTP_ALLOWED = AZ + "web:WebAppFtpAllowed"
SCM_ALLOWED = AZ + "web:WebAppScmAllowed"
INSIGHTS = AZ + "applicationinsights:Component"
SVC = "functions"

# App setting names that carry a secret when they carry a value, and value fragments that are secrets anywhere.
_SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|PWD|TOKEN|CONNECTION_?STRING|CREDENTIAL)", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"(AccountKey=|SharedAccessKey=|SharedAccessSignature=|Password=|sig=)", re.IGNORECASE)
_KEY_VAULT_REFERENCE = re.compile(r"^@Microsoft\.KeyVault\(", re.IGNORECASE)
# Not secrets although named like them: the Application Insights connection string only routes telemetry (with
# local auth off an Entra token is still required), and an identity's client id is public.
_NOT_SECRETS = {"APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"}
# Host-storage connection strings are function-app-identity-host-storage's to judge (one finding, one policy).
_HOST_STORAGE_STRINGS = ("AzureWebJobsStorage", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING")
_TLS_OK = ("1.2", "1.3")


def app_settings(r: Res) -> dict[str, Any]:
    return {
        str(dig(s, "name")): dig(s, "value") for s in as_list(r.get("siteConfig.appSettings")) if isinstance(s, Mapping)
    }


https_only = ZeroTrustResourcePolicy(
    Meta(
        name="function-app-https-only",
        control="FN-01",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Function apps accept HTTPS only (httpsOnly=true).",
        why="A missing value (false) serves plain HTTP alongside HTTPS.",
        remediation="Set httpsOnly=true.",
        framework=mcsb("DP-3", anchors="Azure Policy 6d555dd1; CKV_AZURE_70"),
    ),
    [WEB_APP],
    must_be_true("httpsOnly", " (default false: plain HTTP is served)"),
)


ftps_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="function-app-ftps-disabled",
        control="FN-02",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description='Function apps turn FTP and FTPS off (siteConfig.ftpsState "Disabled").',
        why="Code is deployed with Entra ID through the SCM site; FTP(S) is another way in with basic credentials.",
        remediation='Set siteConfig.ftpsState="Disabled".',
        framework=mcsb("DP-3", anchors="Azure Policy 399b2637; CKV_AZURE_78"),
    ),
    [WEB_APP],
    expect("siteConfig.ftpsState", ("disabled",), normalise=lower, unset="not set (AllAllowed)"),
)


public_network_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="function-app-public-network-disabled",
        control="FN-03",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Function apps refuse public inbound traffic (publicNetworkAccess "Disabled").',
        why="The poller needs no inbound access at all; its private endpoint serves deployment and the SCM site.",
        remediation='Set publicNetworkAccess="Disabled" and add a private endpoint for group id "sites".',
        framework=mcsb("NS-2", anchors="Azure Policy 11c82d0c"),
    ),
    [WEB_APP],
    expect("publicNetworkAccess", ("disabled",), normalise=lower, unset="not set (Enabled)"),
)


def _tls(path: str) -> Any:
    return expect(
        path, _TLS_OK, normalise=str, when_missing=" (the platform default may change)", hint="; 1.2 is the minimum"
    )


min_tls = ZeroTrustResourcePolicy(
    Meta(
        name="function-app-min-tls",
        control="FN-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Function apps and their SCM sites require TLS 1.2 or later, set explicitly.",
        why="An explicit minimum is the only one a review can trust, for the app and for the deployment endpoint.",
        remediation='Set siteConfig.minTlsVersion="1.2" and siteConfig.scmMinTlsVersion="1.2".',
        framework=mcsb("DP-3", anchors="Azure Policy f9d614c5; CKV_AZURE_145"),
    ),
    [WEB_APP],
    all_of(_tls("siteConfig.minTlsVersion"), _tls("siteConfig.scmMinTlsVersion")),
)


def _identity_host_storage(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    settings = app_settings(r)
    for name in _HOST_STORAGE_STRINGS:
        if name in settings:
            yield f"app setting {name} holds a storage connection string; use an identity-based connection."
    if is_unknown(r.get("siteConfig.appSettings")):
        return
    credential = settings.get("AzureWebJobsStorage__credential")
    if "AzureWebJobsStorage__accountName" not in settings and "AzureWebJobsStorage__blobServiceUri" not in settings:
        yield "the host storage connection is not identity-based: AzureWebJobsStorage__accountName is not set."
    elif not is_unknown(credential) and str(credential or "").lower() != "managedidentity":
        yield "AzureWebJobsStorage__credential is not 'managedidentity'."
    auth = r.get("functionAppConfig.deployment.storage.authentication.type")
    if not is_unknown(auth) and str(auth or "").lower() == "storageaccountconnectionstring":
        yield "functionAppConfig.deployment.storage reads the package with a connection string, not an identity."


identity_host_storage = ZeroTrustResourcePolicy(
    Meta(
        name="function-app-identity-host-storage",
        control="FN-05",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Function apps reach their host storage and deployment package with a managed identity "
            "(AzureWebJobsStorage__accountName + __credential=managedidentity; no connection string)."
        ),
        why="A storage connection string is an account key: it bypasses Entra ID and cannot be scoped.",
        remediation=(
            "Replace AzureWebJobsStorage with AzureWebJobsStorage__accountName, __credential=managedidentity and "
            "__clientId, and use UserAssignedIdentity authentication for the deployment storage."
        ),
        framework=mcsb("IM-3", anchors="Functions docs: connecting to host storage with an identity"),
    ),
    [WEB_APP],
    _identity_host_storage,
)


def _no_plain_secrets(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    for name, value in app_settings(r).items():
        if is_unknown(value) or value is None or name in _NOT_SECRETS or name in _HOST_STORAGE_STRINGS:
            continue
        text = str(value)
        if _KEY_VAULT_REFERENCE.match(text):
            continue
        if _SECRET_VALUE.search(text):
            yield f"app setting {name} holds a credential in plain text; use a Key Vault reference."
        elif _SECRET_NAME.search(name) and not name.startswith("AzureWebJobsStorage__"):
            yield f"app setting {name} looks like a secret but is not a Key Vault reference."


no_plain_secrets = ZeroTrustResourcePolicy(
    Meta(
        name="function-app-no-plain-secrets",
        control="FN-06",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Function app settings hold secrets only as Key Vault references (@Microsoft.KeyVault(...)); no key, "
            "password, token or connection string in plain text."
        ),
        why="App settings are readable by anyone with read access to the app's configuration and land in state.",
        remediation=(
            "Store the secret in Key Vault, grant the app's identity Key Vault Secrets User on it, and set the "
            "setting to @Microsoft.KeyVault(VaultName=...;SecretName=...) with keyVaultReferenceIdentity."
        ),
        framework=mcsb("IM-8", anchors="App Service docs: Key Vault references"),
    ),
    [WEB_APP],
    _no_plain_secrets,
)


insights_local_auth_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="appinsights-local-auth-disabled",
        control="FN-07",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description="Application Insights accepts only Entra-authenticated telemetry (disableLocalAuth=true).",
        why="With local auth on, the connection string alone lets anyone send (and spoof) telemetry.",
        remediation="Set disableLocalAuth=true and grant the sender Monitoring Metrics Publisher.",
        framework=mcsb("IM-1", anchors="Azure Policy 3dd46c9a"),
    ),
    [INSIGHTS],
    expect_flag("disableLocalAuth", True, when_missing="; Azure then accepts instrumentation-key telemetry"),
)


vnet_integration = ZeroTrustResourcePolicy(
    Meta(
        name="function-app-vnet-integration",
        control="FN-08",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Function apps send outbound traffic through their virtual network (virtualNetworkSubnetId set).",
        why=(
            "Without VNet integration the app cannot reach the private endpoints of Event Hubs, Key Vault and its "
            "host storage, and its egress bypasses the platform's network controls."
        ),
        remediation="Set virtualNetworkSubnetId to a subnet delegated to Microsoft.App/environments (Flex plan).",
        framework=mcsb("NS-1", anchors="Azure Policy App Service VNet integration"),
    ),
    [WEB_APP],
    lambda r, _: [] if is_set(r.get("virtualNetworkSubnetId")) else ["virtualNetworkSubnetId is not set."],
)


private_endpoint = private_endpoint_policy(
    Meta(
        name="function-app-private-endpoint",
        control="FN-09",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Every function app has a private endpoint for group id "sites" (its app and SCM site).',
        why="With public access disabled the private endpoint is the only way to deploy code or call the app.",
        remediation='Add a network:PrivateEndpoint with groupIds ["sites"] to the app.',
        framework=mcsb("NS-2", anchors="Azure Policy App Service private link"),
    ),
    WEB_APP,
    "function app",
    ["sites"],
)


@stack_policy(
    Meta(
        name="function-app-basic-auth-disabled",
        control="FN-10",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Every function app turns basic (publishing-credential) authentication off for FTP and for the SCM site: "
            "a web:WebAppFtpAllowed and a web:WebAppScmAllowed with allow=false. A missing companion fails."
        ),
        why="Basic authentication is on by default and bypasses Entra ID for deployments.",
        remediation="Add web:WebAppFtpAllowed and web:WebAppScmAllowed (name = the app's name, allow=false).",
        framework=Framework("Azure Policy", "871b205b", None, "2c034a29 (FTP/SCM local authentication disabled)"),
    )
)
def basic_auth_disabled(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for app in graph.of_type(WEB_APP):
        for kind, type_ in (("FTP", FTP_ALLOWED), ("SCM", SCM_ALLOWED)):
            policies = graph.children(app, [type_], "name", "name")
            if not policies:
                yield app.urn, f"function app {app.name!r} has no {type_} resource: {kind} basic auth stays on."
            for policy in policies:
                allow = as_bool(policy.get("allow"))
                if allow is not False and not is_unknown(allow):
                    yield policy.urn, f"{type_} {policy.name!r} has allow={allow!r}: {kind} basic auth is on."


POLICIES: list[ZeroTrustResourcePolicy | ZeroTrustStackPolicy] = [
    https_only,
    ftps_disabled,
    public_network_disabled,
    min_tls,
    identity_host_storage,
    no_plain_secrets,
    insights_local_auth_disabled,
    vnet_integration,
    private_endpoint,
    basic_auth_disabled,
]

__all__ = ["FTP_ALLOWED", "INSIGHTS", "POLICIES", "SCM_ALLOWED", "WEB_APP"]
