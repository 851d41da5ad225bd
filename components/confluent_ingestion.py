"""Confluent Cloud ingestion: a Kafka cluster on Azure, reached through Private Link.

Confluent side (pulumi-confluentcloud, through one explicit provider):
environment -> Network (AZURE, PRIVATELINK, private DNS resolution) ->
PrivateLinkAccess for the platform's subscription -> Dedicated KafkaCluster on
that network -> topics -> service accounts with topic-scoped role bindings ->
API keys owned by those service accounts.

Azure side: one private endpoint per zone to the network's Private Link service
alias (a *manual* connection: Confluent approves it because the subscription is
registered through the PrivateLinkAccess), a private DNS zone for the network's
DNS domain with wildcard A records to the endpoints' IPs, linked to the VNet.

The producer's and processor's API key id and secret go to Key Vault as
management-plane secrets (values are Pulumi secrets); jobs reach them only
through the Key Vault-backed secret scope. Nothing secret is an output.

What a real `pulumi up` needs that the offline mocks cannot show (docs/confluent.md):
- Cluster API keys are created with `disable_wait_for_ready`: otherwise the
  provider lists topics on the cluster's private REST endpoint before it records
  the key, fails from a runner outside the network, and every retry leaves an
  orphan key (provider docs, `confluent_api_key.disable_wait_for_ready`;
  confluentinc/terraform-provider-confluent#25, #51, #140, #483;
  internal/provider/resource_api_key.go `waitForApiKeyToSync`).
- Topics are the only calls to the private REST endpoint. They wait for every
  endpoint, DNS record and VNet link of the Confluent zone, and for each
  endpoint's connection to read `Approved` (manual connections start
  `Pending`). On destroy the same edges delete the topics before the link.
  A stack can leave topics out (`manage_topics=False`) for the first,
  connectivity-only stage run from outside the network.
- The private endpoints are created one after another: concurrent endpoint
  creates in one subnet conflict (Azure/azure-rest-api-specs#20289; azurerm
  serialises them with a per-subnet lock, hashicorp/terraform-provider-azurerm#16315).
- API keys rotate in generations: two keys side by side, the Key Vault secrets
  naming the active one, then the old one removed (`ApiKeyGeneration`).

Downstream code sees a `KafkaSource` only, the same interface Event Hubs fills.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TypeVar, cast

import pulumi
import pulumi_confluentcloud as confluentcloud
from pulumi_azure_native import keyvault, network, privatedns

from components.base import CommonArgs, PlatformComponent, RoleAssignmentArgs, endpoints_before, queue_endpoint
from components.ingestion import KafkaAuthMode, KafkaSource
from components.roles import BuiltInRole

CLOUD = "AZURE"
# Wire constants of the Confluent APIs (see the ApiKey / RoleBinding docstrings).
SERVICE_ACCOUNT_API_VERSION = "iam/v2"
SERVICE_ACCOUNT_KIND = "ServiceAccount"
CLUSTER_API_VERSION = "cmk/v2"
CLUSTER_KIND = "Cluster"
# Roles a service account may hold here. OrganizationAdmin, EnvironmentAdmin and
# CloudClusterAdmin are deliberately absent: no service account gets them.
DEVELOPER_READ = "DeveloperRead"
DEVELOPER_WRITE = "DeveloperWrite"
DEVELOPER_MANAGE = "DeveloperManage"
ALLOWED_ROLES = frozenset({DEVELOPER_READ, DEVELOPER_WRITE, DEVELOPER_MANAGE})
T = TypeVar("T")
# Rotation runs two generations side by side (new key created, secrets swapped, then the old one removed).
MAX_KEY_GENERATIONS = 2
# Kafka clients over Private Link resolve broker names under the network's DNS domain.
DNS_TTL_SECONDS = 60


@dataclass(frozen=True)
class ConfluentCredentials:
    """Confluent Cloud API key (a Cloud key, not a cluster key) for the explicit provider."""

    cloud_api_key: pulumi.Input[str]
    cloud_api_secret: pulumi.Input[str]


@dataclass(frozen=True)
class TopicArgs:
    name: str
    partitions: int
    retention_ms: int  # -1 = forever
    cleanup_policy: str  # "delete" | "compact"


@dataclass(frozen=True)
class ClusterArgs:
    type: str  # "dedicated" | "standard" | "basic" (the last two public only)
    availability: str  # "SINGLE_ZONE" | "MULTI_ZONE"
    ckus: int | None = None  # Dedicated only
    deletion_protection: bool = True


@dataclass(frozen=True)
class ApiKeyGeneration:
    """One generation of the service accounts' API keys. Confluent keys never expire, and a
    Key Vault secret's `exp` does not stop reads, so `rotate_by` is a date to act on, not a cut-off."""

    name: str  # "" = the stack's original keys, which keep their logical names
    rotate_by: date


@dataclass(frozen=True)
class PrivateLinkArgs:
    """The Azure side of Confluent's Private Link: endpoints in one subnet, DNS in the VNet."""

    subnet_id: pulumi.Input[str]
    # Creates a private DNS zone linked to the platform VNet: (key, zone name) -> zone.
    # `Network.add_private_dns_zone` bound to the platform network.
    add_private_dns_zone: Callable[[str, pulumi.Input[str]], privatedns.PrivateZone]
    endpoint_name_prefix: str
    zones: Sequence[str] = ("1", "2", "3")
    # The zone's VNet links by zone key (`Network.dns_zone_links`): topics wait for them, and
    # on destroy are deleted before them. None until the stack passes them.
    dns_zone_links: Callable[[str], Sequence[pulumi.Resource]] | None = None


@dataclass(frozen=True)
class SecretStoreArgs:
    """The platform Key Vault, written through the management plane only."""

    vault_name: pulumi.Input[str]
    vault: pulumi.Resource  # the keyvault.Vault, so secrets wait for it
    vault_id: pulumi.Input[str]


@dataclass(frozen=True)
class ConfluentIngestionArgs:
    common: CommonArgs
    credentials: ConfluentCredentials
    environment_display_name: str
    cluster_display_name: str
    network_display_name: str
    stream_governance: str  # "ESSENTIALS" | "ADVANCED"
    cluster: ClusterArgs
    topics: Sequence[TopicArgs]
    trades_topic: str
    processor_consumer_group_prefix: str
    # Service-account display names by role ("producer", "processor", "topic-manager").
    service_account_names: dict[str, str]
    secrets: SecretStoreArgs
    api_key_expiry: date | None
    # Key generations, oldest first; empty = one generation ("") that rotates by `api_key_expiry`.
    api_key_generations: Sequence[ApiKeyGeneration] = ()
    # The generation whose key the Key Vault secrets (and the topics' credentials) hold; default the newest.
    active_api_key_generation: str | None = None
    # False on the connectivity stage of a first deploy run from outside the network (docs/confluent.md).
    manage_topics: bool = True
    # None = the explicit, named public choice (dev only; the config refuses it in prod).
    private_link: PrivateLinkArgs | None = None
    # Principal id of the producer's managed identity: it reads its own two secrets, nothing else.
    producer_principal_id: pulumi.Input[str] | None = None
    extra_role_assignments: Sequence[RoleAssignmentArgs] = field(default_factory=tuple)


def secret_name(role: str, part: str) -> str:
    """Key Vault secret name for one service account's API key id (`key`) or secret (`secret`)."""
    return f"confluent-{role}-api-{part}"


def strip_protocol(bootstrap_endpoint: str) -> str:
    """`SASL_SSL://host:9092` -> `host:9092` (what Kafka clients take as bootstrap.servers)."""
    return bootstrap_endpoint.split("://", 1)[-1] if bootstrap_endpoint else bootstrap_endpoint


def expiry_epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


class ConfluentIngestion(PlatformComponent):
    """Confluent Cloud environment, private Kafka cluster, topics, least-privilege keys in Key Vault."""

    def __init__(self, name: str, args: ConfluentIngestionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ConfluentIngestion", name, args.common, opts)
        self._logical_name = name
        c = args.common
        if args.trades_topic not in [t.name for t in args.topics]:
            raise ValueError(f"{name}: trades topic {args.trades_topic!r} is not among the topics")
        if args.private_link is None and args.cluster.availability == "MULTI_ZONE" and args.cluster.type == "basic":
            raise ValueError(f"{name}: a basic cluster is SINGLE_ZONE only")
        if args.private_link is not None and args.cluster.type != "dedicated":
            raise ValueError(f"{name}: Private Link through a Confluent Network needs a dedicated cluster")

        self.provider = confluentcloud.Provider(
            f"{name}-provider",
            cloud_api_key=pulumi.Output.secret(args.credentials.cloud_api_key),
            cloud_api_secret=pulumi.Output.secret(args.credentials.cloud_api_secret),
            opts=self._opts(),
        )

        self.environment = confluentcloud.Environment(
            f"{name}-env",
            display_name=args.environment_display_name,
            stream_governance=confluentcloud.EnvironmentStreamGovernanceArgs(package=args.stream_governance),
            opts=self._cc(),
        )
        env_ref = {"id": self.environment.id}

        # ---- private networking (Confluent side, then Azure side)
        self.network: confluentcloud.Network | None = None
        self.private_link_access: confluentcloud.PrivateLinkAccess | None = None
        self.private_endpoints: dict[str, network.PrivateEndpoint] = {}
        self.dns_zone: privatedns.PrivateZone | None = None
        self.dns_records: list[privatedns.PrivateRecordSet] = []
        self.dns_zone_links: list[pulumi.Resource] = []
        # Per endpoint: its connection state, failing unless Approved (empty on the public choice).
        self.approvals: list[pulumi.Output[str]] = []
        if args.private_link is not None:
            self._private_networking(name, args, env_ref)

        cluster_type = args.cluster.type
        self.cluster = confluentcloud.KafkaCluster(
            f"{name}-kafka",
            display_name=args.cluster_display_name,
            cloud=CLOUD,
            region=c.location,
            availability=args.cluster.availability,
            environment=confluentcloud.KafkaClusterEnvironmentArgs(id=self.environment.id),
            dedicated=confluentcloud.KafkaClusterDedicatedArgs(cku=args.cluster.ckus or 1)
            if cluster_type == "dedicated"
            else None,
            standard=confluentcloud.KafkaClusterStandardArgs() if cluster_type == "standard" else None,
            basic=confluentcloud.KafkaClusterBasicArgs() if cluster_type == "basic" else None,
            network=confluentcloud.KafkaClusterNetworkArgs(id=self.network.id) if self.network is not None else None,
            deletion_protection=args.cluster.deletion_protection,
            opts=self._cc(depends_on=[self.network] if self.network is not None else []),
        )
        self.bootstrap_servers: pulumi.Output[str] = self.cluster.bootstrap_endpoint.apply(strip_protocol)
        # Private clusters answer their REST API (topics) only over Private Link: topic calls wait for
        # the endpoints, the DNS records, the zone's VNet links and approved endpoint connections.
        reachable: list[pulumi.Resource] = [
            self.cluster,
            *self.private_endpoints.values(),
            *self.dns_records,
            *self.dns_zone_links,
        ]

        # ---- identities and least-privilege role bindings
        self.service_accounts: dict[str, confluentcloud.ServiceAccount] = {}
        for role, description in (
            ("producer", "Sends trading events to the trades topic"),
            ("processor", "Databricks bronze job: reads the trades topic"),
            ("topic-manager", "Deploy-time only: creates and configures the platform's topics"),
        ):
            self.service_accounts[role] = confluentcloud.ServiceAccount(
                f"{name}-sa-{role}",
                display_name=args.service_account_names[role],
                description=description,
                opts=self._cc(),
            )

        self.role_bindings: list[confluentcloud.RoleBinding] = []
        trades_crn = self._topic_crn(args.trades_topic)
        self._bind("producer", "trades-write", DEVELOPER_WRITE, trades_crn)
        self._bind("processor", "trades-read", DEVELOPER_READ, trades_crn)
        self._bind(
            "processor",
            "group-read",
            DEVELOPER_READ,
            pulumi.Output.concat(
                self.cluster.rbac_crn, "/kafka=", self.cluster.id, "/group=", args.processor_consumer_group_prefix, "*"
            ),
        )
        manage_bindings = [
            self._bind("topic-manager", f"manage-{t.name}", DEVELOPER_MANAGE, self._topic_crn(t.name))
            for t in args.topics
        ]

        # ---- API keys, one per service account and generation; the active generation is the one in use
        self.generations = key_generations(args.api_key_generations, args.api_key_expiry)
        active = active_generation(self.generations, args.active_api_key_generation)
        self.active_generation = active
        self.api_keys_by_generation: dict[str, dict[str, confluentcloud.ApiKey]] = {}
        for position, generation in enumerate(self.generations):
            self.api_keys_by_generation[generation.name] = {
                role: self._api_key(name, role, generation, keeps_original_name=position == 0)
                for role in self.service_accounts
            }
        self.api_keys: dict[str, confluentcloud.ApiKey] = self.api_keys_by_generation[active.name]
        for warning in rotation_warnings(self.generations, active, date.today()):
            pulumi.log.warn(f"{name}: {warning}", resource=self)

        # ---- topics, created with the topic manager's key through the cluster's REST endpoint
        manager_key = self.api_keys["topic-manager"]
        self.topics: dict[str, confluentcloud.KafkaTopic] = {}
        if args.manage_topics:
            # Resolves only once every endpoint's connection reads Approved (property dependency on them).
            rest_endpoint = pulumi.Output.all(self.cluster.rest_endpoint, *self.approvals).apply(lambda v: str(v[0]))
            for topic in args.topics:
                self.topics[topic.name] = confluentcloud.KafkaTopic(
                    f"{name}-topic-{topic.name}",
                    kafka_cluster=confluentcloud.KafkaTopicKafkaClusterArgs(id=self.cluster.id),
                    topic_name=topic.name,
                    partitions_count=topic.partitions,
                    rest_endpoint=rest_endpoint,
                    config={"retention.ms": str(topic.retention_ms), "cleanup.policy": topic.cleanup_policy},
                    credentials=confluentcloud.KafkaTopicCredentialsArgs(key=manager_key.id, secret=manager_key.secret),
                    opts=self._cc(depends_on=[*reachable, manager_key, *manage_bindings]),
                )

        # ---- the producer's and processor's keys in Key Vault (management plane)
        self.secret_names: dict[str, dict[str, str]] = {}
        self.secrets: dict[str, keyvault.Secret] = {}
        for role in ("producer", "processor"):
            self.secret_names[role] = {}
            for part, value in (("key", self.api_keys[role].id), ("secret", self.api_keys[role].secret)):
                kv_name = secret_name(role, part)
                self.secret_names[role][part] = kv_name
                self.secrets[kv_name] = keyvault.Secret(
                    f"{name}-kv-{role}-{part}",
                    secret_name=kv_name,
                    vault_name=args.secrets.vault_name,
                    resource_group_name=c.resource_group_name,
                    properties=keyvault.SecretPropertiesArgs(
                        value=pulumi.Output.secret(value),
                        content_type="text/plain",
                        attributes=keyvault.SecretAttributesArgs(enabled=True, expires=expiry_epoch(active.rotate_by)),
                    ),
                    tags={**self.tags, "confluentServiceAccount": role},
                    opts=self._opts(depends_on=[args.secrets.vault]),
                )

        # The producer (outside Databricks) reads exactly its own two secrets.
        assignments: list[RoleAssignmentArgs] = []
        if args.producer_principal_id is not None:
            for part in ("key", "secret"):
                assignments.append(
                    RoleAssignmentArgs(
                        principal_id=args.producer_principal_id,
                        role=BuiltInRole.KEY_VAULT_SECRETS_USER,
                        name=f"producer-{part}",
                        sub_scope=secret_name("producer", part),
                        description=f"The producer reads its Confluent API {part} only",
                    )
                )
        assignments.extend(args.extra_role_assignments)
        self.role_assignments = self.add_role_assignments(
            f"{name}-kv",
            {kv_name: (secret, secret.id) for kv_name, secret in self.secrets.items()},
            assignments,
        )

        self.kafka_source = KafkaSource(
            provider="confluent",
            bootstrap_servers=self.bootstrap_servers,
            topic=args.trades_topic,
            auth_mode=KafkaAuthMode.SASL_PLAIN_SECRET_SCOPE,
            api_key_secret_name=self.secret_names["processor"]["key"],
            api_secret_secret_name=self.secret_names["processor"]["secret"],
            consumer_group_prefix=args.processor_consumer_group_prefix,
        )
        self.environment_id: pulumi.Output[str] = self.environment.id
        self.cluster_id: pulumi.Output[str] = self.cluster.id
        self.rest_endpoint: pulumi.Output[str] = self.cluster.rest_endpoint
        self.register_outputs(
            {
                "environment_id": self.environment_id,
                "cluster_id": self.cluster_id,
                "bootstrap_servers": self.bootstrap_servers,
                "topic": args.trades_topic,
                "auth_mode": KafkaAuthMode.SASL_PLAIN_SECRET_SCOPE.value,
                "secret_names": self.secret_names,
                "dns_domain": self.network.dns_domain if self.network is not None else None,
            }
        )

    # ------------------------------------------------------------------ helpers

    def _cc(
        self, *, depends_on: Sequence[pulumi.Resource] = (), aliases: Sequence[pulumi.Alias] | None = None
    ) -> pulumi.ResourceOptions:
        """Options for a Confluent child: parented here, always through the explicit provider."""
        return self._opts(depends_on=depends_on, provider=self.provider, aliases=aliases)

    def _topic_crn(self, topic: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.cluster.rbac_crn, "/kafka=", self.cluster.id, "/topic=", topic)

    def _bind(self, role: str, what: str, role_name: str, crn: pulumi.Input[str]) -> confluentcloud.RoleBinding:
        if role_name not in ALLOWED_ROLES:
            raise ValueError(f"role {role_name!r} is not one a service account may hold here")
        sa = self.service_accounts[role]
        binding = confluentcloud.RoleBinding(
            f"{self._logical_name}-rb-{role}-{what}",
            principal=pulumi.Output.concat("User:", sa.id),
            role_name=role_name,
            crn_pattern=crn,
            opts=self._cc(depends_on=[sa, self.cluster]),
        )
        self.role_bindings.append(binding)
        return binding

    def _api_key(
        self, name: str, role: str, generation: ApiKeyGeneration, *, keeps_original_name: bool
    ) -> confluentcloud.ApiKey:
        sa = self.service_accounts[role]
        suffix = f"-{generation.name}" if generation.name else ""
        original = f"{name}-key-{role}"
        return confluentcloud.ApiKey(
            f"{original}{suffix}",
            display_name=f"{role}-kafka{suffix}",
            description=f"Kafka API key of the {role} service account (rotate by {generation.rotate_by.isoformat()})",
            owner=confluentcloud.ApiKeyOwnerArgs(
                id=sa.id, api_version=SERVICE_ACCOUNT_API_VERSION, kind=SERVICE_ACCOUNT_KIND
            ),
            managed_resource=confluentcloud.ApiKeyManagedResourceArgs(
                id=self.cluster.id,
                api_version=CLUSTER_API_VERSION,
                kind=CLUSTER_KIND,
                environment=confluentcloud.ApiKeyManagedResourceEnvironmentArgs(id=self.environment.id),
            ),
            # No readiness call to the cluster's private REST endpoint: it fails from outside the
            # network after the key exists, and each retry would leave an orphan key.
            disable_wait_for_ready=True,
            # The oldest generation keeps the URN the stack's original (unnamed) keys had.
            opts=self._cc(
                depends_on=[sa, self.cluster],
                aliases=[pulumi.Alias(name=original)] if keeps_original_name and suffix else None,
            ),
        )

    def _private_networking(
        self, name: str, args: ConfluentIngestionArgs, env_ref: dict[str, pulumi.Output[str]]
    ) -> None:
        pl = args.private_link
        assert pl is not None
        c = args.common
        self.network = confluentcloud.Network(
            f"{name}-network",
            display_name=args.network_display_name,
            cloud=CLOUD,
            region=c.location,
            connection_types=["PRIVATELINK"],
            dns_config=confluentcloud.NetworkDnsConfigArgs(resolution="PRIVATE"),
            environment=confluentcloud.NetworkEnvironmentArgs(id=env_ref["id"]),
            opts=self._cc(),
        )
        # Confluent accepts endpoint connections from this subscription only.
        self.private_link_access = confluentcloud.PrivateLinkAccess(
            f"{name}-pla",
            display_name=f"{args.network_display_name}-azure",
            azure=confluentcloud.PrivateLinkAccessAzureArgs(subscription=c.subscription_id),
            environment=confluentcloud.PrivateLinkAccessEnvironmentArgs(id=env_ref["id"]),
            network=confluentcloud.PrivateLinkAccessNetworkArgs(id=self.network.id),
            opts=self._cc(depends_on=[self.network]),
        )
        aliases: pulumi.Output[dict[str, str]] = self.network.azures.apply(_aliases)
        ips: dict[str, pulumi.Output[str]] = {}
        # One at a time in the subnet, after every other component's endpoints there (components/base.py).
        previous: list[pulumi.Resource] = endpoints_before(pl.subnet_id)
        for zone in pl.zones:
            endpoint_name = f"{pl.endpoint_name_prefix}-z{zone}"
            nic_name = f"{endpoint_name}-nic"
            alias = aliases.apply(functools.partial(_alias_for, zone=zone))
            pe = network.PrivateEndpoint(
                f"{name}-pe-z{zone}",
                private_endpoint_name=endpoint_name,
                resource_group_name=c.resource_group_name,
                location=c.location,
                subnet=network.SubnetArgs(id=pl.subnet_id),
                custom_network_interface_name=nic_name,
                # Manual: the service is Confluent's, addressed by alias; Confluent approves it
                # because the PrivateLinkAccess registered this subscription.
                manual_private_link_service_connections=[
                    network.PrivateLinkServiceConnectionArgs(
                        name=f"{endpoint_name}-conn",
                        private_link_service_id=alias,
                        request_message=f"rta-platform: {args.network_display_name} zone {zone}",
                    )
                ],
                tags=dict(self.tags),
                # One endpoint at a time in the subnet (concurrent creates conflict; module docstring).
                opts=self._opts(depends_on=[self.private_link_access, *previous]),
            )
            previous = [pe]
            queue_endpoint(pl.subnet_id, pe)
            self.private_endpoints[zone] = pe
            # The endpoint's IP is not among its outputs: read it from its network interface.
            nic = network.get_network_interface_output(
                resource_group_name=c.resource_group_name,
                network_interface_name=nic_name,
                opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[pe]),
            )
            # Carry the endpoint as a dependency of the address, so the records depend on it by property.
            ips[zone] = _after(pe, nic).apply(lambda r: _first_private_ip(r.ip_configurations))

        self.dns_zone = pl.add_private_dns_zone("confluent", self.network.dns_domain)
        self.dns_zone_links = list(pl.dns_zone_links("confluent")) if pl.dns_zone_links is not None else []
        for zone, pe in self.private_endpoints.items():
            endpoint_name = f"{pl.endpoint_name_prefix}-z{zone}"
            # Read back after creation: Confluent moves a manual connection from Pending to Approved.
            read = network.get_private_endpoint_output(
                resource_group_name=c.resource_group_name,
                private_endpoint_name=endpoint_name,
                opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[pe]),
            )
            self.approvals.append(
                pulumi.Output.all(_after(pe, read), c.resource_group_name).apply(
                    functools.partial(_require_approved, endpoint=endpoint_name)
                )
            )
        records: list[tuple[str, str, list[pulumi.Output[str]]]] = [("all", "*", list(ips.values()))]
        records += [(f"az{zone}", f"*.az{zone}", [ip]) for zone, ip in ips.items()]
        for key, relative_name, addresses in records:
            self.dns_records.append(
                privatedns.PrivateRecordSet(
                    f"{name}-dns-{key}",
                    private_zone_name=self.dns_zone.name,
                    resource_group_name=c.resource_group_name,
                    record_type="A",
                    relative_record_set_name=relative_name,
                    ttl=DNS_TTL_SECONDS,
                    a_records=[privatedns.ARecordArgs(ipv4_address=ip) for ip in addresses],
                    opts=self._opts(depends_on=[self.dns_zone, *self.private_endpoints.values()]),
                )
            )


def _after(endpoint: network.PrivateEndpoint, nic: pulumi.Output[T]) -> pulumi.Output[T]:
    """`nic`, carrying `endpoint` as a dependency (invoke outputs do not carry their depends_on)."""
    return endpoint.id.apply(lambda _: nic)


def _aliases(azures: Sequence[confluentcloud.outputs.NetworkAzure] | None) -> dict[str, str]:
    """Zone -> Private Link service alias, from the network's `azure` block."""
    return dict((azures[0].private_link_service_aliases or {}) if azures else {})


def _alias_for(aliases: dict[str, str], zone: str) -> str:
    if zone not in aliases:
        # Only raised once the network exists and lacks the zone: a config/region mismatch.
        raise ValueError(
            f"the Confluent network has no Private Link service alias for zone {zone!r}: {sorted(aliases)}"
        )
    return aliases[zone]


class PrivateLinkNotApprovedError(Exception):
    """An endpoint's connection to Confluent is not Approved: calls to the cluster would not get through."""


APPROVED = "Approved"


def connection_status(read: network.GetPrivateEndpointResult) -> str:
    """The state of the endpoint's (single, manual) connection: Pending, Approved, Rejected or Disconnected."""
    for conn in read.manual_private_link_service_connections or ():
        state = conn.private_link_service_connection_state
        return (state.status if state is not None else None) or "unknown"
    return "no manual connection"


def _require_approved(values: Sequence[object], *, endpoint: str) -> str:
    read, resource_group = values
    status = connection_status(cast(network.GetPrivateEndpointResult, read))
    if status != APPROVED:
        raise PrivateLinkNotApprovedError(
            f"private endpoint {endpoint!r}: its connection to Confluent is {status!r}, not {APPROVED!r}, so the "
            f"cluster's REST endpoint is unreachable and no topic was created. Confluent approves connections from "
            f"the subscription registered in the PrivateLinkAccess; check with `az network private-endpoint show "
            f"-g {resource_group} -n {endpoint} --query "
            f"manualPrivateLinkServiceConnections[0].privateLinkServiceConnectionState` and run `pulumi up` again "
            f"once it is Approved (docs/confluent.md, 'Staged first deploy')."
        )
    return status


def key_generations(generations: Sequence[ApiKeyGeneration], api_key_expiry: date | None) -> list[ApiKeyGeneration]:
    """The generations oldest first; none configured = the original keys, rotated by `api_key_expiry`."""
    if not generations:
        if api_key_expiry is None:
            raise ValueError("API keys need a rotate-by date (api_key_expiry) or generations")
        return [ApiKeyGeneration("", api_key_expiry)]
    names = [g.name for g in generations]
    if len(set(names)) != len(names):
        raise ValueError(f"API key generations have duplicate names: {names}")
    if len(generations) > MAX_KEY_GENERATIONS:
        raise ValueError(f"at most {MAX_KEY_GENERATIONS} API key generations live side by side, not {names}")
    return sorted(generations, key=lambda g: g.rotate_by)


def active_generation(generations: Sequence[ApiKeyGeneration], name: str | None) -> ApiKeyGeneration:
    """The generation the Key Vault secrets hold: the named one, or the newest."""
    if name is None:
        return generations[-1]
    for generation in generations:
        if generation.name == name:
            return generation
    raise ValueError(f"active API key generation {name!r} is not one of {[g.name for g in generations]}")


def rotation_warnings(
    generations: Sequence[ApiKeyGeneration], active: ApiKeyGeneration, today: date, *, notice_days: int = 30
) -> list[str]:
    """What `pulumi preview`/`up` warns about: a rotation due within `notice_days`, or an old key still alive."""
    warnings: list[str] = []
    days = (active.rotate_by - today).days
    label = f"API key generation {active.name or '(original)'!r}"
    if days < 0:
        warnings.append(f"{label} was due for rotation on {active.rotate_by.isoformat()}; rotate now")
    elif days <= notice_days:
        warnings.append(f"{label} is due for rotation on {active.rotate_by.isoformat()} (in {days} days)")
    retired = [g.name or "(original)" for g in generations if g is not active]
    if retired:
        warnings.append(
            f"API key generation(s) {retired} still exist beside the active {active.name or '(original)'!r}: "
            "remove them once every consumer runs on the active key"
        )
    return warnings


def _first_private_ip(
    ip_configurations: Sequence[network.outputs.NetworkInterfaceIPConfigurationResponse] | None,
) -> str:
    for conf in ip_configurations or ():
        if conf.private_ip_address:
            return conf.private_ip_address
    raise ValueError("the private endpoint's network interface has no private IP address")
