"""The Confluent Cloud ingestion option, proven on the recorded plans of the `confluent` stack.

`confluent` is the dev platform with `ingestion.provider: confluent`: a 1-CKU
Dedicated cluster on a Confluent Network reached through Azure Private Link.
Event Hubs must be absent there, and Confluent absent from dev and prod.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import date
from typing import Any

import pytest

from components.confluent_ingestion import strip_protocol
from offline.confluent_mocks import API_KEY_MARKER, API_SECRET_MARKER
from offline.engine import SUBSCRIPTION_ID, StackProgramError, run_stack, stack_config_values
from offline.plan import SECRET_SIG, UNKNOWN, Plan, PlannedResource
from stack_config import ConfigError
from stack_config.confluent import CLOUD_API_KEY, CLOUD_API_SECRET, credential_problems
from tests.builtin_roles import SECRETS_USER as SECRETS_USER_GUID
from tests.plan_queries import PE, ROLE, ZONE, job_params, only

NS = "rta-platform"
CC = "confluentcloud:index/"
ENV = CC + "environment:Environment"
NETWORK = CC + "network:Network"
PLA = CC + "privateLinkAccess:PrivateLinkAccess"
CLUSTER = CC + "kafkaCluster:KafkaCluster"
TOPIC = CC + "kafkaTopic:KafkaTopic"
SA = CC + "serviceAccount:ServiceAccount"
BINDING = CC + "roleBinding:RoleBinding"
API_KEY = CC + "apiKey:ApiKey"
PROVIDER = "pulumi:providers:confluentcloud"
RECORD = "azure-native:privatedns:PrivateRecordSet"
VNET_LINK = "azure-native:privatedns:VirtualNetworkLink"
KV_SECRET = "azure-native:keyvault:Secret"
COMPONENT = "rta:platform:ConfluentIngestion"
FORBIDDEN_ROLES = {"OrganizationAdmin", "EnvironmentAdmin", "CloudClusterAdmin", "AccountAdmin"}


# ----------------------------------------------------------------------------- helpers


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) is not None


def unwrap(value: Any) -> Any:
    return value["value"] if is_secret(value) else value


def plain_strings(value: Any) -> list[str]:
    """Every string outside secret envelopes."""
    if is_secret(value):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *plain_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in plain_strings(v)]
    return []


def stack_config(stack: str, key: str) -> Any:
    values, _ = stack_config_values(stack)
    raw = values[f"{NS}:{key}"]
    return json.loads(raw) if raw[:1] in "{[" else raw


def by_name(plan: Plan, type_token: str) -> dict[str, PlannedResource]:
    return {r.name: r for r in plan.of_type(type_token)}


def provider_urn(plan: Plan) -> str:
    return only(plan, PROVIDER).urn


# ----------------------------------------------------------------------------- option selection


def test_event_hubs_is_absent_from_the_confluent_stack(confluent_plan: Plan) -> None:
    types = {r.type for r in confluent_plan.resources}
    assert not [t for t in types if t.startswith("azure-native:eventhub:")], types
    assert "rta:platform:EventStreaming" not in types
    assert "eventHubsNamespaceFqdn" not in confluent_plan.outputs
    identities = confluent_plan.outputs["identityClientIds"]
    assert "eventhubs" not in identities and {"producer", "processor"} <= set(identities)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_confluent_is_absent_from_event_hubs_stacks(stack: str, dev_plan: Plan, prod_plan: Plan) -> None:
    plan = {"dev": dev_plan, "prod": prod_plan}[stack]
    leaked = [r.name for r in plan.resources if r.type.startswith(("confluentcloud:", PROVIDER)) or r.type == COMPONENT]
    assert leaked == []
    assert plan.of_type("azure-native:eventhub:Namespace"), "the Event Hubs option is still there"
    assert not [k for k in plan.outputs if k.startswith("confluent")]
    assert plan.outputs["kafkaAuthMode"] == "entra-service-credential"


def test_preview_registers_the_same_resources(confluent_plan: Plan, confluent_preview_plan: Plan) -> None:
    assert sorted((r.type, r.name) for r in confluent_preview_plan.resources) == sorted(
        (r.type, r.name) for r in confluent_plan.resources
    )


# ----------------------------------------------------------------------------- Confluent side


def test_every_confluent_resource_uses_the_explicit_provider_and_sits_in_the_component(confluent_plan: Plan) -> None:
    provider = only(confluent_plan, PROVIDER)
    component = only(confluent_plan, COMPONENT)
    assert provider.parent == component.urn
    # Cloud API credentials arrive as secrets from `confluentcloud:cloudApiKey/cloudApiSecret`.
    assert is_secret(provider.inputs["cloudApiKey"]) and is_secret(provider.inputs["cloudApiSecret"])
    confluent = [r for r in confluent_plan.resources if r.type.startswith("confluentcloud:")]
    assert len(confluent) >= 15
    for r in confluent:
        assert r.provider and r.provider.startswith(provider.urn + "::"), r.name
        assert r.parent == component.urn, r.name


def test_environment_with_stream_governance(confluent_plan: Plan) -> None:
    env = only(confluent_plan, ENV)
    assert env.inputs["streamGovernance"] == {"package": "ESSENTIALS"}
    assert env.inputs["displayName"] == "env-rtacc-dev-weu"


def test_network_is_private_link_only_in_the_platform_region(confluent_plan: Plan) -> None:
    network = only(confluent_plan, NETWORK)
    env = only(confluent_plan, ENV)
    assert network.inputs["cloud"] == "AZURE"
    assert network.inputs["region"] == confluent_plan.outputs["location"] == "westeurope"
    assert network.inputs["connectionTypes"] == ["PRIVATELINK"]
    assert network.inputs["dnsConfig"] == {"resolution": "PRIVATE"}
    assert network.inputs["environment"] == {"id": env.id}


def test_private_link_access_registers_the_platform_subscription(confluent_plan: Plan) -> None:
    pla = only(confluent_plan, PLA)
    network = only(confluent_plan, NETWORK)
    assert pla.inputs["azure"] == {"subscription": SUBSCRIPTION_ID}
    assert pla.inputs["network"] == {"id": network.id}
    assert any(i.token == "azure-native:authorization:getClientConfig" for i in confluent_plan.invokes)


def test_cluster_is_dedicated_on_the_private_network(confluent_plan: Plan) -> None:
    cluster = only(confluent_plan, CLUSTER)
    network = only(confluent_plan, NETWORK)
    cfg = stack_config("confluent", "confluent")["cluster"]
    assert cluster.inputs["dedicated"] == {"cku": cfg["ckus"]}
    assert "basic" not in cluster.inputs and "standard" not in cluster.inputs
    assert cluster.inputs["network"] == {"id": network.id}
    assert cluster.inputs["availability"] == cfg["availability"] == "SINGLE_ZONE"
    assert cluster.inputs["cloud"] == "AZURE" and cluster.inputs["region"] == "westeurope"
    assert cluster.inputs["deletionProtection"] is cfg["deletionProtection"]


def test_topics_take_partitions_retention_and_cleanup_from_config(confluent_plan: Plan) -> None:
    cluster = only(confluent_plan, CLUSTER)
    topics = {r.inputs["topicName"]: r for r in confluent_plan.of_type(TOPIC)}
    configured = stack_config("confluent", "confluent")["topics"]
    assert set(topics) == {t["name"] for t in configured}
    for t in configured:
        topic = topics[t["name"]]
        assert topic.inputs["partitionsCount"] == t["partitions"]
        assert topic.inputs["config"] == {"retention.ms": str(t["retentionMs"]), "cleanup.policy": t["cleanupPolicy"]}
        assert topic.inputs["kafkaCluster"] == {"id": cluster.id}
        assert topic.inputs["restEndpoint"] == cluster.outputs["restEndpoint"]
        # The topic manager's cluster key, as a secret.
        assert is_secret(topic.inputs["credentials"])
    assert topics["trades-reference"].inputs["config"]["retention.ms"] == "-1"


def test_delta_maintenance_keeps_vacuumed_files_past_the_trades_topics_retention(confluent_plan: Plan) -> None:
    (trades,) = [t for t in stack_config("confluent", "confluent")["topics"] if t["name"] == "trades"]
    job = confluent_plan.one("databricks:index/job:Job", "streaming-jobs-delta_maintenance")
    params = job_params(job)
    hours = -(-trades["retentionMs"] // 3_600_000)
    assert int(params["--stream-retention-hours"]) == hours
    assert int(params["--vacuum-hours"]) > max(168, hours)


def test_topics_wait_for_private_connectivity_and_their_manager(confluent_plan: Plan) -> None:
    urns = {r.name: r.urn for r in confluent_plan.resources}
    for topic in confluent_plan.of_type(TOPIC):
        deps = set(topic.dependencies)
        assert urns["confluent-key-topic-manager"] in deps
        assert urns["confluent-dns-all"] in deps
        assert {urns[f"confluent-pe-z{z}"] for z in "123"} <= deps
        assert urns[f"confluent-rb-topic-manager-manage-{topic.inputs['topicName']}"] in deps


def test_service_accounts_for_producer_processor_and_topic_manager(confluent_plan: Plan) -> None:
    accounts = by_name(confluent_plan, SA)
    assert set(accounts) == {"confluent-sa-producer", "confluent-sa-processor", "confluent-sa-topic-manager"}
    names = [a.inputs["displayName"] for a in accounts.values()]
    assert all(len(n) <= 64 for n in names) and len(set(names)) == 3


def _bindings(plan: Plan) -> dict[str, list[tuple[str, str]]]:
    accounts = {r.id: r.name.removeprefix("confluent-sa-") for r in plan.of_type(SA)}
    found: dict[str, list[tuple[str, str]]] = {}
    for rb in plan.of_type(BINDING):
        principal = rb.inputs["principal"]
        assert principal.startswith("User:sa-"), principal
        found.setdefault(accounts[principal.removeprefix("User:")], []).append(
            (rb.inputs["roleName"], rb.inputs["crnPattern"])
        )
    return found


def test_role_bindings_are_least_privilege(confluent_plan: Plan) -> None:
    cluster = only(confluent_plan, CLUSTER)
    kafka = f"{cluster.outputs['rbacCrn']}/kafka={cluster.id}"
    bindings = _bindings(confluent_plan)
    assert sorted(bindings["producer"]) == [("DeveloperWrite", f"{kafka}/topic=trades")]
    assert sorted(bindings["processor"]) == [
        ("DeveloperRead", f"{kafka}/group=bronze-ingest*"),
        ("DeveloperRead", f"{kafka}/topic=trades"),
    ]
    assert sorted(bindings["topic-manager"]) == [
        ("DeveloperManage", f"{kafka}/topic=trades"),
        ("DeveloperManage", f"{kafka}/topic=trades-reference"),
    ]
    for rb in confluent_plan.of_type(BINDING):
        assert rb.inputs["roleName"] not in FORBIDDEN_ROLES
        # Topic- or group-scoped: never the whole cluster, environment or organization.
        assert rb.inputs["crnPattern"].startswith(kafka + "/"), rb.inputs["crnPattern"]
        assert rb.inputs["crnPattern"] != f"{kafka}/topic=*"


def test_api_keys_are_owned_by_service_accounts_and_manage_the_cluster(confluent_plan: Plan) -> None:
    cluster = only(confluent_plan, CLUSTER)
    env = only(confluent_plan, ENV)
    accounts = by_name(confluent_plan, SA)
    keys = by_name(confluent_plan, API_KEY)
    assert set(keys) == {"confluent-key-producer", "confluent-key-processor", "confluent-key-topic-manager"}
    for name, key in keys.items():
        role = name.removeprefix("confluent-key-")
        assert key.inputs["owner"] == {
            "id": accounts[f"confluent-sa-{role}"].id,
            "apiVersion": "iam/v2",
            "kind": "ServiceAccount",
        }
        assert key.inputs["managedResource"] == {
            "id": cluster.id,
            "apiVersion": "cmk/v2",
            "kind": "Cluster",
            "environment": {"id": env.id},
        }


# ----------------------------------------------------------------------------- Azure side


def test_private_endpoints_connect_manually_to_the_network_aliases(confluent_plan: Plan) -> None:
    network = only(confluent_plan, NETWORK)
    pla = only(confluent_plan, PLA)
    aliases = network.outputs["azures"][0]["privateLinkServiceAliases"]
    pe_subnet = only_subnet_id(confluent_plan, "snet-private-endpoints")
    endpoints = {r.name: r for r in confluent_plan.of_type(PE) if r.name.startswith("confluent-")}
    assert set(endpoints) == {"confluent-pe-z1", "confluent-pe-z2", "confluent-pe-z3"}
    for zone in "123":
        pe = endpoints[f"confluent-pe-z{zone}"]
        assert "privateLinkServiceConnections" not in pe.inputs, "Confluent approves; the connection is manual"
        (conn,) = pe.inputs["manualPrivateLinkServiceConnections"]
        assert conn["privateLinkServiceId"] == aliases[zone]
        assert pe.inputs["subnet"]["id"] == pe_subnet
        assert pe.inputs["location"] == "westeurope"
        # Confluent accepts the request only once the subscription is registered.
        assert pla.urn in pe.dependencies


def only_subnet_id(plan: Plan, subnet_name: str) -> str:
    (subnet,) = [r for r in plan.of_type("azure-native:network:Subnet") if r.inputs.get("subnetName") == subnet_name]
    assert subnet.id
    return subnet.id


def test_private_dns_zone_for_the_network_domain_linked_to_the_vnet(confluent_plan: Plan) -> None:
    network = only(confluent_plan, NETWORK)
    zone = by_name(confluent_plan, ZONE)["network-dns-confluent"]
    assert zone.inputs["privateZoneName"] == network.outputs["dnsDomain"]
    link = by_name(confluent_plan, VNET_LINK)["network-dns-confluent-link"]
    assert link.inputs["virtualNetwork"] == {"id": confluent_plan.outputs["vnetId"]}
    assert link.inputs["registrationEnabled"] is False
    # The cluster's bootstrap host resolves under that zone.
    assert confluent_plan.outputs["kafkaBootstrapServers"].split(":")[0].endswith("." + network.outputs["dnsDomain"])


def test_wildcard_records_point_at_the_endpoints_ips(confluent_plan: Plan) -> None:
    records = by_name(confluent_plan, RECORD)
    zone = by_name(confluent_plan, ZONE)["network-dns-confluent"]
    endpoints = {r.name: r for r in confluent_plan.of_type(PE) if r.name.startswith("confluent-")}
    # Each endpoint's IP comes from its NIC, read through the invoke the mock answers.
    nic_reads = [
        i.args["networkInterfaceName"] for i in confluent_plan.invokes if i.token.endswith("getNetworkInterface")
    ]
    assert sorted(nic_reads) == sorted(pe.inputs["customNetworkInterfaceName"] for pe in endpoints.values())
    subnet = ipaddress.ip_network(stack_config("confluent", "network")["subnets"]["privateEndpoints"])
    everything = records["confluent-dns-all"]
    assert everything.inputs["relativeRecordSetName"] == "*"
    assert everything.inputs["recordType"] == "A"
    all_ips = [a["ipv4Address"] for a in everything.inputs["aRecords"]]
    assert len(all_ips) == len(set(all_ips)) == 3
    assert all(ipaddress.ip_address(ip) in subnet for ip in all_ips)
    for z in "123":
        zonal = records[f"confluent-dns-az{z}"]
        assert zonal.inputs["relativeRecordSetName"] == f"*.az{z}"
        assert [a["ipv4Address"] for a in zonal.inputs["aRecords"]] == [all_ips[int(z) - 1]]
        # The address is the zone's own endpoint's (by property dependency, not only ordering).
        pe_deps = [u for u in zonal.property_dependencies["aRecords"] if u in {p.urn for p in endpoints.values()}]
        assert pe_deps == [endpoints[f"confluent-pe-z{z}"].urn]
    assert {endpoints[f"confluent-pe-z{z}"].urn for z in "123"} <= set(everything.property_dependencies["aRecords"])
    for record in records.values():
        assert record.inputs["privateZoneName"] == zone.inputs["privateZoneName"]


# ----------------------------------------------------------------------------- keys in Key Vault


def test_processor_and_producer_keys_are_key_vault_secrets(confluent_plan: Plan) -> None:
    vault = only(confluent_plan, "azure-native:keyvault:Vault")
    keys = by_name(confluent_plan, API_KEY)
    secrets = {r.inputs["secretName"]: r for r in confluent_plan.of_type(KV_SECRET)}
    assert set(secrets) == {
        "confluent-producer-api-key",
        "confluent-producer-api-secret",
        "confluent-processor-api-key",
        "confluent-processor-api-secret",
    }
    expiry = date.fromisoformat(stack_config("confluent", "confluent")["apiKeyExpiry"])
    for name, secret in secrets.items():
        role, part = name.removeprefix("confluent-").split("-api-")
        value = secret.inputs["properties"]["value"]
        assert is_secret(value), f"{name} is not a Pulumi secret"
        key = keys[f"confluent-key-{role}"]
        assert unwrap(value) == (key.id if part == "key" else key.outputs["secret"])
        assert secret.inputs["vaultName"] == vault.inputs["vaultName"]
        assert secret.inputs["properties"]["attributes"]["enabled"] is True
        assert secret.inputs["properties"]["attributes"]["expires"] == pytest.approx(
            (expiry - date(1970, 1, 1)).days * 86400
        )
        assert vault.urn in secret.dependencies


def test_only_the_producer_identity_reads_its_own_secrets(confluent_plan: Plan) -> None:
    secrets = {r.id: r.inputs["secretName"] for r in confluent_plan.of_type(KV_SECRET)}
    grants = [r for r in confluent_plan.of_type(ROLE) if r.inputs["scope"] in secrets]
    assert sorted(secrets[g.inputs["scope"]] for g in grants) == [
        "confluent-producer-api-key",
        "confluent-producer-api-secret",
    ]
    producer_identity = by_name(confluent_plan, "azure-native:managedidentity:UserAssignedIdentity")
    producer = next(r for n, r in producer_identity.items() if n.endswith("producer"))
    for g in grants:
        assert g.inputs["roleDefinitionId"].endswith(SECRETS_USER_GUID)
        assert g.inputs["principalId"] == producer.outputs["principalId"]


def test_no_api_key_value_is_in_plain_inputs_or_stack_outputs(confluent_plan: Plan) -> None:
    key_ids = {k.id for k in confluent_plan.of_type(API_KEY)}
    key_secrets = {k.outputs["secret"] for k in confluent_plan.of_type(API_KEY)}
    assert all(i and i.startswith(API_KEY_MARKER) for i in key_ids)
    assert all(s.startswith(API_SECRET_MARKER) for s in key_secrets)
    leaks = [
        (r.name, s)
        for r in confluent_plan.resources
        for s in plain_strings(r.inputs)
        if s in key_ids | key_secrets or API_SECRET_MARKER in s
    ]
    assert leaks == []
    outputs = json.dumps(confluent_plan.outputs)
    assert API_SECRET_MARKER not in outputs and API_KEY_MARKER not in outputs
    assert "offline-placeholder-secret" not in outputs


# ----------------------------------------------------------------------------- the shared interface


def test_downstream_gets_bootstrap_topic_and_auth_mode_from_kafka_source(confluent_plan: Plan) -> None:
    cluster = only(confluent_plan, CLUSTER)
    outputs = confluent_plan.outputs
    assert outputs["kafkaBootstrapServers"] == strip_protocol(cluster.outputs["bootstrapEndpoint"])
    assert not outputs["kafkaBootstrapServers"].startswith("SASL_SSL://")
    assert outputs["kafkaBootstrapServers"].endswith(":9092")
    assert outputs["kafkaTopic"] == "trades"
    assert outputs["kafkaAuthMode"] == "sasl-plain-secret-scope"
    assert outputs["confluentClusterId"] == cluster.id
    assert outputs["kafkaApiKeySecretName"] == "confluent-processor-api-key"
    assert outputs["kafkaApiSecretSecretName"] == "confluent-processor-api-secret"
    secret_names = {r.inputs["secretName"] for r in confluent_plan.of_type(KV_SECRET)}
    assert {outputs["kafkaApiKeySecretName"], outputs["kafkaApiSecretSecretName"]} <= secret_names


def test_preview_knows_the_topic_and_auth_mode_but_not_the_endpoint(confluent_preview_plan: Plan) -> None:
    outputs = confluent_preview_plan.outputs
    assert outputs["kafkaTopic"] == "trades"
    assert outputs["kafkaAuthMode"] == "sasl-plain-secret-scope"
    assert outputs["kafkaBootstrapServers"] == "(known after apply)"
    pe = by_name(confluent_preview_plan, PE)["confluent-pe-z1"]
    conn = pe.inputs["manualPrivateLinkServiceConnections"]
    assert UNKNOWN in json.dumps(conn), "the alias is only known once the Confluent network exists"


# ----------------------------------------------------------------------------- the explicit public choice


@pytest.fixture(scope="module")
def public_plan() -> Plan:
    section = stack_config("confluent", "confluent")
    section["allowPublicNetworking"] = True
    section["cluster"] = {"type": "standard", "availability": "SINGLE_ZONE", "deletionProtection": False}
    return run_stack("confluent", preview=False, config_overrides={f"{NS}:confluent": section})


def test_public_choice_has_no_network_private_link_or_dns(public_plan: Plan) -> None:
    for t in (NETWORK, PLA, RECORD):
        assert public_plan.of_type(t) == [], t
    assert not [r for r in public_plan.of_type(PE) if r.name.startswith("confluent-")]
    assert "network-dns-confluent" not in by_name(public_plan, ZONE)
    cluster = only(public_plan, CLUSTER)
    assert cluster.inputs["standard"] == {} and "network" not in cluster.inputs
    # Keys, least privilege and Key Vault are unchanged.
    assert len(public_plan.of_type(API_KEY)) == 3 and len(public_plan.of_type(KV_SECRET)) == 4
    assert public_plan.outputs["kafkaAuthMode"] == "sasl-plain-secret-scope"


# ----------------------------------------------------------------------------- config validation


def _confluent(**changes: Any) -> dict[str, Any]:
    section = stack_config("confluent", "confluent")
    section.update(changes)
    return {f"{NS}:confluent": section}


def _cluster(**changes: Any) -> dict[str, Any]:
    section = stack_config("confluent", "confluent")
    section["cluster"].update(changes)
    return {f"{NS}:confluent": section}


def _topic(**changes: Any) -> dict[str, Any]:
    section = stack_config("confluent", "confluent")
    section["topics"][0].update(changes)
    return {f"{NS}:confluent": section}


BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("topic name with a bad character", _topic(name="trades!"), f"{NS}:confluent.topics[0].name"),
    ("zero partitions", _topic(partitions=0), f"{NS}:confluent.topics[0].partitions"),
    ("too many partitions", _topic(partitions=100000), f"{NS}:confluent.topics[0].partitions"),
    ("retention zero", _topic(retentionMs=0), f"{NS}:confluent.topics[0].retentionMs"),
    ("retention below -1", _topic(retentionMs=-5), "must be -1 (keep forever) or a positive number"),
    ("unknown cleanup policy", _topic(cleanupPolicy="compact,delete"), f"{NS}:confluent.topics[0].cleanupPolicy"),
    ("no topics", _confluent(topics=[]), f"{NS}:confluent.topics"),
    (
        "duplicate topics",
        _confluent(topics=[*stack_config("confluent", "confluent")["topics"]] * 2),
        "confluent.topics has duplicate names",
    ),
    ("unknown cluster type", _cluster(type="enterprise"), f"{NS}:confluent.cluster.type"),
    ("unknown availability", _cluster(availability="THREE_ZONE"), f"{NS}:confluent.cluster.availability"),
    ("zero CKUs", _cluster(ckus=0), f"{NS}:confluent.cluster.ckus"),
    ("dedicated without CKUs", _cluster(ckus=None), "confluent.cluster.ckus is required with cluster.type 'dedicated'"),
    (
        "multi-zone dedicated with one CKU",
        _cluster(availability="MULTI_ZONE", ckus=1),
        "confluent.cluster.ckus 1 is below 2, the minimum for a MULTI_ZONE dedicated cluster",
    ),
    (
        "public cluster type without the public switch",
        _cluster(type="basic", ckus=None),
        "confluent.cluster.type 'basic' has no private networking",
    ),
    (
        "CKUs on a standard cluster",
        {
            f"{NS}:confluent": {
                **stack_config("confluent", "confluent"),
                "allowPublicNetworking": True,
                "cluster": {"type": "standard", "ckus": 2, "availability": "SINGLE_ZONE"},
            }
        },
        "confluent.cluster.ckus is only valid with cluster.type 'dedicated'",
    ),
    ("public switch is not a boolean", _confluent(allowPublicNetworking="maybe"), "confluent.allowPublicNetworking"),
    ("misspelt key", _confluent(clusterType="dedicated"), f"{NS}:confluent.clusterType is not a known setting"),
    ("duplicate private link zones", _confluent(privateLink={"zones": ["1", "1"]}), "confluent.privateLink.zones"),
    ("missing API key expiry", _confluent(apiKeyExpiry=None), "confluent.apiKeyExpiry is required"),
    (
        "expiry beside generations",
        _confluent(apiKeys=[{"name": "2027a", "rotateBy": "2027-06-30"}]),
        "confluent.apiKeyExpiry and confluent.apiKeys are exclusive",
    ),
    (
        "three generations",
        _confluent(
            apiKeyExpiry=None, apiKeys=[{"name": n, "rotateBy": f"2027-0{i + 1}-01"} for i, n in enumerate("abc")]
        ),
        f"{NS}:confluent.apiKeys",
    ),
    (
        "duplicate generation names",
        _confluent(
            apiKeyExpiry=None,
            apiKeys=[{"name": "a", "rotateBy": "2027-01-01"}, {"name": "a", "rotateBy": "2027-07-01"}],
        ),
        "confluent.apiKeys has duplicate names: ['a', 'a']",
    ),
    (
        "generation with a bad name",
        _confluent(apiKeyExpiry=None, apiKeys=[{"name": "New Key", "rotateBy": "2027-01-01"}]),
        f"{NS}:confluent.apiKeys[0].name",
    ),
    (
        "generation without a rotate-by date",
        _confluent(apiKeyExpiry=None, apiKeys=[{"name": "a"}]),
        f"{NS}:confluent.apiKeys[0].rotateBy",
    ),
    (
        "active key that is no generation",
        _confluent(apiKeyExpiry=None, apiKeys=[{"name": "a", "rotateBy": "2027-01-01"}], activeApiKey="b"),
        "confluent.activeApiKey 'b' is not one of confluent.apiKeys ['a']",
    ),
    ("active key without generations", _confluent(activeApiKey="a"), "confluent.activeApiKey needs confluent.apiKeys"),
    ("manageTopics not a boolean", _confluent(manageTopics="later"), f"{NS}:confluent.manageTopics"),
    (
        "trades stream is not a topic",
        {f"{NS}:ingestion": {"provider": "confluent", "tradesStream": "orders"}},
        "ingestion.tradesStream 'orders' is not one of confluent.topics",
    ),
    (
        "confluent selected without its section",
        {f"{NS}:confluent": None},
        "confluent is required when ingestion.provider is 'confluent'",
    ),
    (
        "Event Hubs section next to confluent",
        {f"{NS}:eventHubs": stack_config("dev", "eventHubs")},
        "eventHubs must be absent when ingestion.provider is not 'eventhubs'",
    ),
    ("missing Cloud API key", {CLOUD_API_KEY: None}, f"{CLOUD_API_KEY} is required when ingestion.provider"),
    ("missing Cloud API secret", {CLOUD_API_SECRET: None}, f"{CLOUD_API_SECRET} is required when ingestion.provider"),
]


@pytest.mark.parametrize(("case", "overrides", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_confluent_config_is_rejected_naming_the_key(
    case: str, overrides: dict[str, Any], expected: str
) -> None:
    # A None inside a section means "leave the key out".
    overrides = {
        k: {n: x for n, x in v.items() if x is not None} if isinstance(v, dict) else v for k, v in overrides.items()
    }
    with pytest.raises(StackProgramError) as info:
        run_stack("confluent", preview=True, config_overrides=overrides)
    assert isinstance(info.value.cause, ConfigError), f"{case}: {info.value.cause!r}"
    assert expected in str(info.value.cause), str(info.value.cause)
    assert info.value.registered == 0, "resources were registered before the config was validated"


def test_confluent_section_is_refused_when_event_hubs_is_selected() -> None:
    with pytest.raises(StackProgramError) as info:
        run_stack("dev", preview=True, config_overrides={f"{NS}:confluent": stack_config("confluent", "confluent")})
    assert "confluent must be absent when ingestion.provider is not 'confluent'" in str(info.value.cause)


def _prod_on_confluent(**changes: Any) -> dict[str, Any]:
    section = stack_config("confluent", "confluent")
    section.update(changes)
    return {
        f"{NS}:ingestion": {"provider": "confluent", "tradesStream": "trades"},
        f"{NS}:eventHubs": None,
        f"{NS}:confluent": section,
    }


def test_prod_refuses_public_networking_single_zone_and_no_deletion_protection() -> None:
    overrides = _prod_on_confluent(
        allowPublicNetworking=True,
        cluster={"type": "standard", "availability": "SINGLE_ZONE", "deletionProtection": False},
    )
    with pytest.raises(StackProgramError) as info:
        run_stack("prod", preview=True, config_overrides=overrides)
    message = str(info.value.cause)
    assert "confluent.allowPublicNetworking must be false in prod" in message
    assert "confluent.cluster.availability must be MULTI_ZONE in prod" in message
    assert "confluent.cluster.deletionProtection must be true in prod" in message
    # Credentials given in plain text (as --set would) are refused too, naming the key.
    assert f"{CLOUD_API_KEY} is required" in message


def test_prod_on_confluent_runs_multi_zone_behind_private_link() -> None:
    overrides = _prod_on_confluent(cluster={"type": "dedicated", "ckus": 2, "availability": "MULTI_ZONE"})
    overrides[CLOUD_API_KEY] = "k"
    overrides[CLOUD_API_SECRET] = "s"
    with pytest.raises(StackProgramError) as info:
        run_stack("prod", preview=True, config_overrides=overrides)
    # Only the plain-text credentials are left to complain about.
    problems = info.value.cause.problems  # type: ignore[attr-defined]
    assert all("set in plain text" in p for p in problems), problems
    assert len(problems) == 2


def test_credentials_must_be_secrets() -> None:
    values = {CLOUD_API_KEY: "key", CLOUD_API_SECRET: "secret"}
    problems = credential_problems(values.get, lambda k: k == CLOUD_API_SECRET)
    assert problems == [
        f"{CLOUD_API_KEY} is set in plain text; set it with `pulumi config set --secret {CLOUD_API_KEY} <value>`"
    ]
    assert credential_problems(values.get, lambda k: True) == []
    assert len(credential_problems({}.get, lambda k: True)) == 2


# ----------------------------------------------------------------------------- Databricks jobs


def _parameter_lists(value: Any) -> list[list[Any]]:
    """Every list in a job's inputs that carries a `--kafka-bootstrap-servers` flag."""
    found: list[list[Any]] = []
    if isinstance(value, dict) and not is_secret(value):
        for v in value.values():
            found += _parameter_lists(v)
    elif isinstance(value, list):
        if "--kafka-bootstrap-servers" in value:
            found.append(value)
        for v in value:
            found += _parameter_lists(v)
    return found


def test_the_secret_scope_serves_the_vault_holding_the_processor_key(confluent_plan: Plan) -> None:
    scopes = confluent_plan.of_type("databricks:index/secretScope:SecretScope")
    if not scopes:
        pytest.skip("the Databricks layer is not in the confluent stack")
    vault = only(confluent_plan, "azure-native:keyvault:Vault")
    (scope,) = [s for s in scopes if s.inputs.get("backendType") == "AZURE_KEYVAULT"]
    assert scope.inputs["keyvaultMetadata"]["resourceId"] == vault.id
    processor_secrets = [
        r for r in confluent_plan.of_type(KV_SECRET) if r.inputs["secretName"].startswith("confluent-processor-")
    ]
    assert {r.inputs["vaultName"] for r in processor_secrets} == {vault.inputs["vaultName"]}


def test_bronze_job_reads_kafka_settings_from_the_confluent_outputs(confluent_plan: Plan) -> None:
    jobs = confluent_plan.of_type("databricks:index/job:Job")
    if not jobs:
        pytest.skip("no Databricks jobs in the plan: StreamingJobs defines them once the jobs' entry file exists")
    bronze = [j for j in jobs if "bronze" in j.name]
    assert bronze, [j.name for j in jobs]
    (params,) = _parameter_lists(bronze[0].inputs)
    flags = {params[i]: params[i + 1] for i in range(0, len(params) - 1) if str(params[i]).startswith("--")}
    outputs = confluent_plan.outputs
    assert flags["--kafka-bootstrap-servers"] == outputs["kafkaBootstrapServers"]
    assert flags["--kafka-topic"] == "trades"
    assert flags["--kafka-auth"] == "sasl-plain-secret-scope"
    assert flags["--api-key-secret"] == "confluent-processor-api-key"
    assert flags["--api-secret-secret"] == "confluent-processor-api-secret"
    scopes = [s.inputs for s in confluent_plan.of_type("databricks:index/secretScope:SecretScope")]
    assert [s["name"] for s in scopes if s.get("backendType") == "AZURE_KEYVAULT"] == [flags["--secret-scope"]]
    for job in jobs:
        text = json.dumps(job.inputs)
        assert API_SECRET_MARKER not in text and API_KEY_MARKER not in text


# ----------------------------------------------------------------------------- the policy pack


@pytest.fixture(scope="module")
def confluent_policy_report(confluent_preview_plan: Plan) -> Any:
    from offline import policy_runner

    return policy_runner.evaluate(confluent_preview_plan, policy_runner.default_config_for(confluent_preview_plan))


def test_confluent_stack_uses_the_dev_policy_config(confluent_preview_plan: Plan) -> None:
    from offline import policy_runner

    config = policy_runner.default_config_for(confluent_preview_plan)
    assert config.name == "confluent.json" and config.resolve().name == "dev.json"


def test_confluent_policies_pass_on_the_shipped_stack(confluent_policy_report: Any) -> None:
    confluent = [v for v in confluent_policy_report.violations if v.resource_type.startswith("confluentcloud:")]
    assert [v for v in confluent if v.mandatory] == []
    # Advisory only: single-zone dev cluster (CC-06) and no BYOK (CC-02).
    assert {v.policy for v in confluent} <= {"confluent-cluster-resilience", "confluent-cluster-byok"}


def test_shipped_confluent_stack_passes_every_mandatory_policy(confluent_policy_report: Any) -> None:
    # NW-07 accepts the alias-connected endpoints because their wildcard A records depend on them by property.
    assert [(v.policy, v.resource) for v in confluent_policy_report.mandatory] == []


def test_the_public_choice_is_visible_to_the_policy_pack(public_plan: Plan) -> None:
    from offline import policy_runner

    report = policy_runner.evaluate(public_plan, policy_runner.CONFIG_DIR / "dev.json")
    assert "confluent-private-networking" in report.policies_violated(mandatory_only=True)


# ----------------------------------------------------------------------------- component helpers


def test_component_cannot_grant_admin_roles() -> None:
    from components.confluent_ingestion import ALLOWED_ROLES

    assert not ALLOWED_ROLES & FORBIDDEN_ROLES


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        (
            "SASL_SSL://lkc-1.n-1.westeurope.azure.confluent.cloud:9092",
            "lkc-1.n-1.westeurope.azure.confluent.cloud:9092",
        ),
        ("lkc-1.westeurope.azure.confluent.cloud:9092", "lkc-1.westeurope.azure.confluent.cloud:9092"),
    ],
)
def test_bootstrap_endpoint_loses_its_protocol(endpoint: str, expected: str) -> None:
    assert strip_protocol(endpoint) == expected


def test_secret_expiry_is_midnight_utc_of_the_configured_day() -> None:
    from components.confluent_ingestion import expiry_epoch

    assert expiry_epoch(date(1970, 1, 2)) == 86400
