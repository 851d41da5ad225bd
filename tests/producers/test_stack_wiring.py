"""The API poller as dev deploys it: private, keyless, and wired to the hub it sends to (issue 36).

Asserted on the shared dev plans (tests/conftest.py), never on a second run of the program.
"""

from __future__ import annotations

from typing import Any

import pytest

from offline.plan import Plan, PlannedResource
from producers.api_poller.settings import PollerSettings, SinkKind
from producers.package import content_hash
from tests.builtin_roles import BLOB_DATA_OWNER, EH_SENDER, METRICS_PUBLISHER, SECRETS_USER
from tests.plan_queries import (
    ZONE,
    diagnostics_for,
    dig,
    group_ids,
    only,
    private_endpoints_for,
    role_assignments,
    zone_group_for,
)

WEBAPP = "azure-native:web:WebApp"
PLAN = "azure-native:web:AppServicePlan"
INSIGHTS = "azure-native:applicationinsights:Component"
STORAGE = "azure-native:storage:StorageAccount"
HUB = "azure-native:eventhub:EventHub"
NAMESPACE = "azure-native:eventhub:Namespace"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
SUBNET = "azure-native:network:Subnet"
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
COMMAND = "command:local:Command"


def app(plan: Plan) -> PlannedResource:
    return only(plan, WEBAPP)


def settings(plan: Plan) -> dict[str, Any]:
    return {s["name"]: s["value"] for s in dig(app(plan).inputs, "siteConfig", "appSettings")}


def producer(plan: Plan) -> PlannedResource:
    return plan.one(IDENTITY, "identities-producer")


def host_storage(plan: Plan) -> PlannedResource:
    return plan.one(STORAGE, "api-poller-st")


def grants_to(plan: Plan, principal: PlannedResource, role: str) -> list[PlannedResource]:
    return [
        ra
        for ra in role_assignments(plan)
        if ra.inputs["roleDefinitionId"].endswith(role) and ra.inputs["principalId"] == principal.outputs["principalId"]
    ]


def test_the_app_runs_as_the_producer_identity_which_may_send_to_the_trades_hub_only(dev_plan: Plan) -> None:
    ident = producer(dev_plan)
    assert app(dev_plan).inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [ident.id]}
    hub = dev_plan.one(HUB, "eventstreaming-hub-trades")
    senders = grants_to(dev_plan, ident, EH_SENDER)
    assert [ra.inputs["scope"] for ra in senders] == [hub.id], "Data Sender on the trades hub, nowhere wider"
    # ... and the app sends exactly there: the namespace the role lives in, the hub the role names.
    s = settings(dev_plan)
    namespace = only(dev_plan, NAMESPACE)
    assert s["POLLER_SINK"] == SinkKind.EVENTHUBS.value
    assert s["POLLER_EVENTHUBS_NAMESPACE"] == f"{namespace.inputs['namespaceName']}.servicebus.windows.net"
    assert s["POLLER_TOPIC"] == hub.inputs["eventHubName"]
    # The identity's client id tells the SDK which of the app's identities to use.
    assert s["POLLER_IDENTITY_CLIENT_ID"] == ident.outputs["clientId"]


def test_the_api_key_is_a_key_vault_reference_readable_by_the_identity_on_that_secret_only(dev_plan: Plan) -> None:
    ident, vault = producer(dev_plan), only(dev_plan, VAULT)
    s = settings(dev_plan)
    reference = f"@Microsoft.KeyVault(VaultName={vault.inputs['vaultName']};SecretName=trades-api-key)"
    assert s["POLLER_API_KEY"] == reference
    assert app(dev_plan).inputs["keyVaultReferenceIdentity"] == ident.id
    secret = dev_plan.one(SECRET, "api-poller-api-key")
    assert secret.inputs["secretName"] == "trades-api-key" and "properties.value" in secret.options["ignoreChanges"]
    scopes = [ra.inputs["scope"] for ra in grants_to(dev_plan, ident, SECRETS_USER)]
    assert scopes == [f"{vault.id}/secrets/trades-api-key"], "Secrets User at the secret, never at the vault"
    # No app setting carries a secret value: the only key-like setting is the reference.
    secret_like = [n for n in s if any(w in n.upper() for w in ("KEY", "SECRET", "PASSWORD", "CONNECTION_STRING"))]
    assert sorted(secret_like) == ["APPLICATIONINSIGHTS_CONNECTION_STRING", "POLLER_API_KEY"]
    assert "AzureWebJobsStorage" not in s, "host storage by identity, never a connection string"


def test_the_deployed_settings_are_settings_the_poller_accepts(dev_plan: Plan) -> None:
    """What the stack writes is what producers/api_poller/settings.py reads (the reference resolved)."""
    env = {k: v for k, v in settings(dev_plan).items() if v is not None}
    env["POLLER_API_KEY"] = "resolved-by-app-service"
    parsed = PollerSettings.from_environment(env)
    assert parsed.api_url == "https://api.example.com/v1/trades"
    assert parsed.cursor_blob_url.startswith(f"https://{host_storage(dev_plan).inputs['accountName']}.blob.")


def test_inbound_is_private_only_through_a_sites_endpoint_in_its_zone(dev_plan: Plan) -> None:
    func = app(dev_plan)
    assert func.inputs["publicNetworkAccess"] == "Disabled" and func.inputs["httpsOnly"] is True
    endpoints = private_endpoints_for(dev_plan, func)
    assert [group_ids(pe) for pe in endpoints] == [["sites"]]
    group = zone_group_for(dev_plan, endpoints[0])
    assert group is not None
    zones = {z.id: z.inputs["privateZoneName"] for z in dev_plan.of_type(ZONE)}
    assert [zones[c["privateDnsZoneId"]] for c in group.inputs["privateDnsZoneConfigs"]] == [
        "privatelink.azurewebsites.net"
    ]


def test_outbound_goes_through_vnet_integration_on_the_delegated_functions_subnet(dev_plan: Plan) -> None:
    subnet = dev_plan.one(SUBNET, "network-snet-functions")
    assert app(dev_plan).inputs["virtualNetworkSubnetId"] == subnet.id
    assert [d["serviceName"] for d in subnet.inputs["delegations"]] == ["Microsoft.App/environments"]
    # dev is a lone spoke: the subnet leaves through the NAT gateway (the poller calls an external API).
    assert subnet.inputs["natGateway"]["id"] == only(dev_plan, "azure-native:network:NatGateway").id
    assert only(dev_plan, PLAN).inputs["sku"] == {"name": "FC1", "tier": "FlexConsumption"}


def test_host_storage_is_private_keyless_and_reached_by_identity(dev_plan: Plan) -> None:
    ident, account = producer(dev_plan), host_storage(dev_plan)
    assert account.inputs["allowSharedKeyAccess"] is False and account.inputs["publicNetworkAccess"] == "Disabled"
    assert [group_ids(pe) for pe in private_endpoints_for(dev_plan, account)] == [["blob"]]
    s = settings(dev_plan)
    assert s["AzureWebJobsStorage__accountName"] == account.inputs["accountName"]
    assert (s["AzureWebJobsStorage__credential"], s["AzureWebJobsStorage__clientId"]) == (
        "managedidentity",
        ident.outputs["clientId"],
    )
    assert [ra.inputs["scope"] for ra in grants_to(dev_plan, ident, BLOB_DATA_OWNER)] == [account.id]
    deployment = dig(app(dev_plan).inputs, "functionAppConfig", "deployment", "storage", "authentication")
    assert deployment == {"type": "UserAssignedIdentity", "userAssignedIdentityResourceId": ident.id}


@pytest.mark.parametrize("token", [WEBAPP, STORAGE])
def test_the_app_and_its_storage_log_to_the_platform_workspace(dev_plan: Plan, token: str) -> None:
    target = app(dev_plan) if token == WEBAPP else host_storage(dev_plan)
    assert target.id is not None
    assert diagnostics_for(dev_plan, target.id), f"no diagnostic setting on {target.name}"


def test_telemetry_goes_to_insights_without_local_auth_as_the_identity(dev_plan: Plan) -> None:
    insights = only(dev_plan, INSIGHTS)
    assert insights.inputs["disableLocalAuth"] is True
    ident = producer(dev_plan)
    assert [ra.inputs["scope"] for ra in grants_to(dev_plan, ident, METRICS_PUBLISHER)] == [insights.id]
    assert settings(dev_plan)["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        f"ClientId={ident.outputs['clientId']};Authorization=AAD"
    )


def test_the_code_is_deployed_by_content_hash(dev_plan: Plan, dev_preview_plan: Plan) -> None:
    command = only(dev_plan, COMMAND)
    assert command.inputs["triggers"][0] == content_hash()
    assert app(dev_plan).inputs["name"] in command.inputs["create"]
    # A first preview has everything it needs: the command and the app's wiring are planned there too.
    assert only(dev_preview_plan, COMMAND).inputs["triggers"][0] == content_hash()
    assert dev_preview_plan.outputs["apiPollerAppName"] == app(dev_plan).inputs["name"]
