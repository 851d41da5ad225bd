"""What a real `pulumi up` of the Confluent option needs, beyond the shapes (issue #39).

Each test here fails on the code before the fix it guards: API keys that call the
private REST endpoint, topics that do not wait for approved connections,
endpoints created all at once in one subnet, a DNS zone named after the network
id, keys that cannot rotate side by side.
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from components.confluent_ingestion import (
    ApiKeyGeneration,
    PrivateLinkNotApprovedError,
    _require_approved,
    active_generation,
    key_generations,
    rotation_warnings,
)
from offline.plan import Plan
from tests.plan_queries import PE, ZONE, only

REPO = Path(__file__).resolve().parent.parent
CC = "confluentcloud:index/"
API_KEY = CC + "apiKey:ApiKey"
TOPIC = CC + "kafkaTopic:KafkaTopic"
NETWORK = CC + "network:Network"


def confluent_endpoints(plan: Plan) -> dict[str, str]:
    """zone -> URN of the Confluent private endpoint."""
    return {r.name.rsplit("-z", 1)[1]: r.urn for r in plan.of_type(PE) if r.name.startswith("confluent-pe-z")}


# ----------------------------------------------------------------------------- case 2: keys, REST reach


def test_api_keys_never_call_the_private_rest_endpoint(confluent_plan: Plan) -> None:
    keys = confluent_plan.of_type(API_KEY)
    assert len(keys) == 3
    for key in keys:
        # Without it the provider lists topics on the private REST endpoint before recording the key.
        assert key.inputs.get("disableWaitForReady") is True, key.name


def test_runner_egress_names_the_confluent_cloud_api() -> None:
    """The Confluent provider's default endpoint (provider.go: https://api.confluent.cloud)."""
    delivery = (REPO / "docs" / "delivery.md").read_text()
    egress = delivery[delivery.index("Outbound access the runners need") :]
    assert "`api.confluent.cloud`" in egress[:1500]


# ----------------------------------------------------------------------------- case 3: readiness ordering


def test_topics_reach_the_rest_endpoint_only_through_approved_connections(confluent_plan: Plan) -> None:
    endpoints = set(confluent_endpoints(confluent_plan).values())
    assert len(endpoints) == 3
    for topic in confluent_plan.of_type(TOPIC):
        # The endpoint value is the approval check's result, so it depends on every endpoint by property.
        assert endpoints <= set(topic.property_dependencies["restEndpoint"]), topic.name
    reads = [i.args["privateEndpointName"] for i in confluent_plan.invokes if i.token.endswith("getPrivateEndpoint")]
    assert sorted(reads) == sorted(
        only_pe.inputs["privateEndpointName"]
        for only_pe in confluent_plan.of_type(PE)
        if only_pe.name.startswith("confluent-pe-z")
    )


def _endpoint_read(status: str | None) -> Any:
    """Shaped like `getPrivateEndpoint`'s result for an endpoint whose manual connection is in `status`."""
    state = SimpleNamespace(status=status)
    return SimpleNamespace(
        manual_private_link_service_connections=[SimpleNamespace(private_link_service_connection_state=state)]
    )


@pytest.mark.parametrize("status", ["Pending", "Rejected", "Disconnected", None])
def test_a_connection_not_approved_stops_the_topics(status: str | None) -> None:
    with pytest.raises(PrivateLinkNotApprovedError) as info:
        _require_approved([_endpoint_read(status), "rg-x"], endpoint="pe-x-z1")
    message = str(info.value)
    assert "pe-x-z1" in message and "not 'Approved'" in message
    assert "az network private-endpoint show -g rg-x -n pe-x-z1" in message


def test_an_approved_connection_lets_the_topics_through() -> None:
    assert _require_approved([_endpoint_read("Approved"), "rg-x"], endpoint="pe-x-z1") == "Approved"


# ----------------------------------------------------------------------------- case 7: one endpoint at a time


def test_confluent_endpoints_are_created_one_after_another(confluent_plan: Plan) -> None:
    urns = confluent_endpoints(confluent_plan)
    by_urn = {r.urn: r for r in confluent_plan.resources}
    zones = sorted(urns)
    for earlier, later in itertools.pairwise(zones):
        assert urns[earlier] in by_urn[urns[later]].dependencies, (earlier, later)
    assert not set(urns.values()) & set(by_urn[urns[zones[0]]].dependencies)


# ----------------------------------------------------------------------------- case 8: the DNS domain's shape


def test_the_dns_zone_is_the_networks_own_domain_not_its_id(confluent_plan: Plan) -> None:
    network = only(confluent_plan, NETWORK)
    domain = network.outputs["dnsDomain"]
    label = domain.split(".", 1)[0]
    assert label != network.id and not label.startswith("n-"), domain
    zone = next(z for z in confluent_plan.of_type(ZONE) if z.name.endswith("-dns-confluent"))
    assert zone.inputs["privateZoneName"] == domain


def test_docs_describe_the_domain_as_its_own_label() -> None:
    text = (REPO / "docs" / "confluent.md").read_text()
    assert "<network-id>.<region>.azure.confluent.cloud" not in text
    assert "pr123a" in text


# ----------------------------------------------------------------------------- case 5: rotation in generations


def test_no_generation_means_the_original_keys() -> None:
    (only_one,) = key_generations((), date(2027, 6, 30))
    assert only_one == ApiKeyGeneration("", date(2027, 6, 30))


def test_generations_are_ordered_and_the_newest_is_active_by_default() -> None:
    new, old = ApiKeyGeneration("2027b", date(2027, 12, 31)), ApiKeyGeneration("2027a", date(2027, 6, 30))
    generations = key_generations((new, old), date(2000, 1, 1))
    assert generations == [old, new]
    assert active_generation(generations, None) is new
    assert active_generation(generations, "2027a") is old
    with pytest.raises(ValueError, match="'2028' is not one of"):
        active_generation(generations, "2028")


@pytest.mark.parametrize(
    ("generations", "error"),
    [
        ((ApiKeyGeneration("a", date(2027, 1, 1)), ApiKeyGeneration("a", date(2027, 6, 1))), "duplicate names"),
        (tuple(ApiKeyGeneration(n, date(2027, 1, i + 1)) for i, n in enumerate("abc")), "at most 2"),
    ],
)
def test_bad_generations_are_refused(generations: tuple[ApiKeyGeneration, ...], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        key_generations(generations, date(2027, 1, 1))


def test_rotation_warnings_come_before_the_date_and_while_an_old_key_lives() -> None:
    old, new = ApiKeyGeneration("a", date(2027, 1, 1)), ApiKeyGeneration("b", date(2027, 7, 1))
    assert rotation_warnings([new], new, date(2027, 5, 1)) == []
    assert rotation_warnings([new], new, date(2027, 6, 11)) == [
        "API key generation 'b' is due for rotation on 2027-07-01 (in 20 days)"
    ]
    assert "was due for rotation on 2027-07-01; rotate now" in rotation_warnings([new], new, date(2027, 7, 2))[0]
    (warning,) = rotation_warnings([old, new], new, date(2027, 2, 1))
    assert "['a'] still exist beside the active 'b'" in warning


def test_key_vault_secret_expiry_follows_the_active_generation(confluent_plan: Plan) -> None:
    secrets = [r for r in confluent_plan.of_type("azure-native:keyvault:Secret") if "confluent" in r.name]
    configured = str(_confluent_section()["apiKeyExpiry"])  # the shipped stack's one (original) generation
    expected = (date.fromisoformat(configured) - date(1970, 1, 1)).days * 86400
    assert secrets and {s.inputs["properties"]["attributes"]["expires"] for s in secrets} == {expected}


def _confluent_section() -> dict[str, object]:
    from offline.engine import stack_config_values

    values, _ = stack_config_values("confluent")
    section: dict[str, object] = json.loads(values["rta-platform:confluent"])
    return section


# ----------------------------------------------------------------------------- stack config: stages and rotation

LINK = "azure-native:privatedns:VirtualNetworkLink"
KV_SECRET = "azure-native:keyvault:Secret"


def confluent_zone_links(plan: Plan) -> list[str]:
    """URNs of every VNet link of the Confluent private DNS zone."""
    zone = next(z for z in plan.of_type(ZONE) if z.name.endswith("-dns-confluent"))
    return [
        link.urn
        for link in plan.of_type(LINK)
        if zone.urn in link.dependencies or zone.urn in link.property_dependencies.get("privateZoneName", [])
    ]


def test_topics_wait_for_every_vnet_link_of_the_confluent_zone(confluent_plan: Plan) -> None:
    """A client resolves the cluster's REST endpoint only through a linked zone: no topic call before the link."""
    links = confluent_zone_links(confluent_plan)
    assert links, "the Confluent zone has no VNet link"
    topics = confluent_plan.of_type(TOPIC)
    assert topics
    for topic in topics:
        assert set(links) <= set(topic.dependencies), (topic.name, links)


@pytest.fixture(scope="module")
def rotating_plan() -> Plan:
    """The confluent stack mid-rotation, on its connectivity-only stage: two key generations, the older
    one still active, and no topics."""
    from offline.engine import run_stack

    section = {k: v for k, v in _confluent_section().items() if k != "apiKeyExpiry"}
    section.update(
        apiKeys=[{"name": "2027b", "rotateBy": "2027-12-31"}, {"name": "2027a", "rotateBy": "2027-06-30"}],
        activeApiKey="2027a",
        manageTopics=False,
    )
    return run_stack("confluent", preview=False, config_overrides={"rta-platform:confluent": section})


def test_connectivity_stage_creates_no_topic_and_so_no_rest_call(rotating_plan: Plan, confluent_plan: Plan) -> None:
    assert confluent_plan.of_type(TOPIC), "the shipped stack manages its topics"
    assert rotating_plan.of_type(TOPIC) == []
    # Everything else of the private path is there, ready for the data-plane stage.
    assert len(confluent_endpoints(rotating_plan)) == 3 and confluent_zone_links(rotating_plan)


def test_two_key_generations_live_side_by_side_the_oldest_keeping_the_original_urns(rotating_plan: Plan) -> None:
    keys = {k.name: k for k in rotating_plan.of_type(API_KEY)}
    roles = ("producer", "processor", "topic-manager")
    assert sorted(keys) == sorted(f"confluent-key-{r}-{g}" for r in roles for g in ("2027a", "2027b"))
    for role in roles:
        # The oldest generation takes over the original keys' state (no replacement, no deletion).
        assert {"name": f"confluent-key-{role}"} in [
            {k: v for k, v in a.items() if k == "name"} for a in keys[f"confluent-key-{role}-2027a"].aliases
        ]
        assert not any(a.get("name") for a in keys[f"confluent-key-{role}-2027b"].aliases)


def test_key_vault_secrets_hold_the_active_generation(rotating_plan: Plan) -> None:
    keys = {k.name: k.urn for k in rotating_plan.of_type(API_KEY)}
    secrets = [s for s in rotating_plan.of_type(KV_SECRET) if "confluent" in s.name]
    assert len(secrets) == 4
    for secret in secrets:
        role = "producer" if "producer" in secret.name else "processor"
        value_from = set(secret.property_dependencies["properties"])
        assert keys[f"confluent-key-{role}-2027a"] in value_from, secret.name  # activeApiKey, not the newest
        assert keys[f"confluent-key-{role}-2027b"] not in value_from, secret.name
        expires = secret.inputs["properties"]["attributes"]["expires"]
        assert expires == (date(2027, 6, 30) - date(1970, 1, 1)).days * 86400
