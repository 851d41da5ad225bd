"""Run the real `__main__.py` in-process under the Pulumi mock engine and record the plan.

This is the foundation the offline preview, the policy runner and the tests
stand on. It mirrors the language host: config from `Pulumi.yaml` and
`Pulumi.<stack>.yaml` goes into the runtime config, and the program runs via
`runpy` inside `run_in_stack`, so exports and stack outputs behave as in a
real `pulumi preview` / `pulumi up`.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import ipaddress
import json
import runpy
import sys
import threading
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.stack import run_in_stack

from offline import alias_urns, confluent_mocks, lazy_sdk, stack_file
from offline.plan import UNKNOWN, Invocation, Plan, PlannedResource
from stack_config import examples

REPO_ROOT = Path(__file__).resolve().parent.parent
SUBSCRIPTION_ID = "00000000-0000-0000-0000-00000000aaaa"
TENANT_ID = "00000000-0000-0000-0000-00000000bbbb"
DEPLOYER_OBJECT_ID = "00000000-0000-0000-0000-00000000cccc"
# What a `secure:` config value becomes offline: the real ciphertext needs the stack's key.
OFFLINE_SECRET_PLACEHOLDER = "offline-placeholder-secret"
# What a required secret the stack file does not hold becomes offline (stack_config/secrets.py).
OFFLINE_STAND_IN_PREFIX = "offline-stand-in-for-"


# Provider SDKs whose eager __init__ dominates the preview's start-up (see offline/lazy_sdk.py).
LAZY_SDKS = (
    "pulumi_databricks",
    "pulumi_confluentcloud",
    *(
        f"pulumi_azure_native.{sub}"
        for sub in (
            "applicationinsights",
            "authorization",
            "consumption",
            "databricks",
            "eventgrid",
            "eventhub",
            "keyvault",
            "kusto",
            "managedidentity",
            "monitor",
            "network",
            "operationalinsights",
            "privatedns",
            "resources",
            "security",
            "sql",
            "storage",
            "web",
        )
    ),
)


class StackProgramError(Exception):
    """The program failed (config error, exception in a component); `cause` is the original."""

    def __init__(self, stack: str, cause: BaseException, registered: int = 0) -> None:
        self.cause = cause
        # How many resources the program had registered before it failed (0 for a config error).
        self.registered = registered
        super().__init__(f"stack {stack!r}: {cause}")


# ----------------------------------------------------------------------------- config


def load_project(root: Path = REPO_ROOT) -> dict[str, Any]:
    return stack_file.load(root / "Pulumi.yaml")


def stack_config_values(stack: str, root: Path = REPO_ROOT) -> tuple[dict[str, str], list[str]]:
    """Fully qualified config map (objects as JSON strings) and its secret keys, as the CLI passes them."""
    project = load_project(root)
    name = project["name"]
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name}; known stacks: {', '.join(list_stacks(root))}")
    stack_doc = stack_file.load(path)
    values: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        default = spec.get("default", spec.get("value")) if isinstance(spec, dict) else spec
        if default is not None:
            values[key if ":" in key else f"{name}:{key}"] = default
    for key, value in (stack_doc.get("config") or {}).items():
        values[key if ":" in key else f"{name}:{key}"] = value
    flat: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in values.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            flat[key] = OFFLINE_SECRET_PLACEHOLDER
            secret_keys.append(key)
        elif isinstance(value, str):
            flat[key] = value
        else:
            flat[key] = json.dumps(value)
    return flat, secret_keys


def list_stacks(root: Path = REPO_ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


# ----------------------------------------------------------------------------- mocks


def _arm_id(subscription: str, resource_group: str, provider_type: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{provider_type}/{name}"


_ARM_TYPES = {
    "storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "keyvault:Vault": "Microsoft.KeyVault/vaults",
    "eventhub:Namespace": "Microsoft.EventHub/namespaces",
    "operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    "network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "network:NatGateway": "Microsoft.Network/natGateways",
    "network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "databricks:Workspace": "Microsoft.Databricks/workspaces",
    "databricks:AccessConnector": "Microsoft.Databricks/accessConnectors",
    "sql:Server": "Microsoft.Sql/servers",
    "applicationinsights:Component": "Microsoft.Insights/components",
    "web:AppServicePlan": "Microsoft.Web/serverfarms",
    "web:WebApp": "Microsoft.Web/sites",
    "kusto:Cluster": "Microsoft.Kusto/clusters",
}

# Name inputs that carry the Azure resource name, by type (first match wins).
_NAME_KEYS = (
    "accountName",
    "vaultName",
    "namespaceName",
    "workspaceName",
    "virtualNetworkName",
    "networkSecurityGroupName",
    "privateEndpointName",
    "natGatewayName",
    "publicIpAddressName",
    "privateZoneName",
    "resourceName",
    "connectorName",
    "serverName",
    "resourceGroupName",
)
# Child resources whose own name input would otherwise lose to their parent's (serverName).
_NAME_KEY_BY_TYPE = {
    "azure-native:sql:Database": "databaseName",
    "azure-native:sql:ServerKey": "keyName",
    "azure-native:web:WebApp": "name",
    "azure-native:web:AppServicePlan": "name",
    "azure-native:kusto:Cluster": "clusterName",
}


def _guid(seed: str) -> str:
    h = hashlib.sha1(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _azure_name(args: pulumi.runtime.MockResourceArgs) -> str:
    token = args.typ
    if token == "azure-native:resources:ResourceGroup":
        return str(args.inputs.get("resourceGroupName", args.name))
    own = _NAME_KEY_BY_TYPE.get(token)
    if own and isinstance(args.inputs.get(own), str):
        return str(args.inputs[own])
    keys = [k for k in _NAME_KEYS if k != "resourceGroupName"]
    return next((args.inputs[k] for k in keys if isinstance(args.inputs.get(k), str)), args.name)


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers like the providers would, with realistic ARM ids and computed outputs.

    In preview mode it returns only the inputs and no id -- what a first
    `pulumi preview` knows -- so every computed output is unknown, as it is
    for the real engine before the resource exists.
    """

    # What a private endpoint's manual connection reads after creation. Confluent approves
    # connections from the subscription its PrivateLinkAccess registers; tests set "Pending".
    manual_connection_status = "Approved"

    def __init__(self, preview: bool) -> None:
        self.preview = preview
        # Private endpoints' IPs, allocated from their subnet like Azure does; the NIC invoke answers them.
        self._subnet_prefixes: dict[str, str] = {}
        self._nic_ips: dict[str, str] = {}
        # The mock monitor answers registrations on several threads: allocate one address at a time.
        self._nic_lock = threading.Lock()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom and not args.typ.startswith("pulumi:providers:"):
            return (None, {})
        if self.preview:
            return ("", _output_shape(dict(args.inputs)))
        return self._resource_id(args), self._outputs(args)

    def _resource_id(self, args: pulumi.runtime.MockResourceArgs) -> str:
        token = args.typ.removeprefix("azure-native:")
        inputs = args.inputs
        rg = inputs.get("resourceGroupName", "rg")
        name = _azure_name(args)
        if token == "resources:ResourceGroup":
            return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}"
        if confluent_mocks.handles(args.typ):
            return confluent_mocks.resource_id(args.typ, args.name, dict(inputs))
        if token in _ARM_TYPES:
            return _arm_id(SUBSCRIPTION_ID, rg, _ARM_TYPES[token], name)
        if token == "network:Subnet":
            return _arm_id(
                SUBSCRIPTION_ID,
                rg,
                "Microsoft.Network/virtualNetworks",
                f"{inputs.get('virtualNetworkName')}/subnets/{inputs.get('subnetName', args.name)}",
            )
        if token == "storage:BlobContainer":
            return _arm_id(
                SUBSCRIPTION_ID,
                rg,
                "Microsoft.Storage/storageAccounts",
                f"{inputs.get('accountName')}/blobServices/default/containers/{inputs.get('containerName')}",
            )
        if token == "eventhub:EventHub":
            return _arm_id(
                SUBSCRIPTION_ID,
                rg,
                "Microsoft.EventHub/namespaces",
                f"{inputs.get('namespaceName')}/eventhubs/{inputs.get('eventHubName', args.name)}",
            )
        if token == "keyvault:Key":
            return _arm_id(
                SUBSCRIPTION_ID,
                rg,
                "Microsoft.KeyVault/vaults",
                f"{inputs.get('vaultName')}/keys/{inputs.get('keyName', args.name)}",
            )
        if token == "sql:Database":
            return _arm_id(
                SUBSCRIPTION_ID,
                rg,
                "Microsoft.Sql/servers",
                f"{inputs.get('serverName')}/databases/{inputs.get('databaseName', args.name)}",
            )
        if token == "keyvault:Secret":
            return _arm_id(
                SUBSCRIPTION_ID,
                rg,
                "Microsoft.KeyVault/vaults",
                f"{inputs.get('vaultName')}/secrets/{inputs.get('secretName', args.name)}",
            )
        digest = hashlib.sha1(f"{args.typ}/{args.name}".encode()).hexdigest()[:12]
        return f"{args.name}-{digest}"

    def _outputs(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        outputs = _output_shape(dict(args.inputs))
        token = args.typ
        name = args.name
        seed = hashlib.sha1(f"{token}/{name}".encode()).hexdigest()
        guid = _guid(f"{token}/{name}")
        if token.startswith("azure-native:"):
            outputs["name"] = _azure_name(args)
        if token == "azure-native:managedidentity:UserAssignedIdentity":
            outputs.update(principalId=guid, clientId=_guid(f"client/{token}/{name}"), tenantId=TENANT_ID)
        elif token == "azure-native:databricks:Workspace":
            outputs.update(
                workspaceUrl=f"adb-{int(seed[:12], 16) % 10**16}.7.azuredatabricks.net",
                workspaceId=str(int(seed[:12], 16) % 10**16),
            )
            # Databricks creates these identities when the workspace has a CMK (disks) or prepares one (DBFS).
            entities = (args.inputs.get("encryption") or {}).get("entities") or {}
            if "managedDisk" in entities:
                outputs["managedDiskIdentity"] = {
                    "principalId": _guid(f"disk/{name}"),
                    "tenantId": TENANT_ID,
                    "type": "SystemAssigned",
                }
            if ((args.inputs.get("parameters") or {}).get("prepareEncryption") or {}).get("value"):
                outputs["storageAccountIdentity"] = {
                    "principalId": _guid(f"dbfs/{name}"),
                    "tenantId": TENANT_ID,
                    "type": "SystemAssigned",
                }
        elif token == "azure-native:sql:Server":
            outputs.update(fullyQualifiedDomainName=f"{args.inputs.get('serverName', name)}.database.windows.net")
        elif token == "azure-native:applicationinsights:Component":
            outputs.update(
                instrumentationKey=guid,
                connectionString=f"InstrumentationKey={guid};IngestionEndpoint=https://{args.inputs.get('location')}"
                "-0.in.applicationinsights.azure.com/",
            )
        elif token == "azure-native:kusto:Cluster":
            cluster, location = args.inputs.get("clusterName", name), args.inputs.get("location")
            outputs.update(
                uri=f"https://{cluster}.{location}.kusto.windows.net",
                dataIngestionUri=f"https://ingest-{cluster}.{location}.kusto.windows.net",
            )
        elif token == "azure-native:keyvault:Key":
            vault = args.inputs.get("vaultName")
            key = args.inputs.get("keyName", name)
            outputs.update(
                keyUri=f"https://{vault}.vault.azure.net/keys/{key}",
                keyUriWithVersion=f"https://{vault}.vault.azure.net/keys/{key}/{seed[:32]}",
            )
        elif token == "azure-native:network:Subnet":
            self._subnet_prefixes[self._resource_id(args)] = str(args.inputs.get("addressPrefix", "10.0.0.0/24"))
        elif token == "azure-native:network:PrivateEndpoint":
            outputs.update(self._private_endpoint(args))
        elif token == "azure-native:network:AzureFirewall":
            outputs["ipConfigurations"] = self._firewall_ip_configurations(args)
        elif confluent_mocks.handles(token):
            outputs.update(confluent_mocks.outputs(token, name, self._resource_id(args), dict(args.inputs)))
        elif token.startswith("databricks:"):
            outputs.setdefault("name", args.inputs.get("name", name))
            if token in ("databricks:index/servicePrincipal:ServicePrincipal",):
                outputs.update(applicationId=guid, home=f"/Users/{guid}")
            elif token == "databricks:index/workspaceFile:WorkspaceFile":
                path = str(args.inputs.get("path", ""))
                outputs.update(workspacePath=f"/Workspace{path}", objectId=int(seed[:8], 16))
        return outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": DEPLOYER_OBJECT_ID,
                "objectId": DEPLOYER_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }, []
        if args.token == "azure-native:network:getNetworkInterface":
            return self._network_interface(dict(args.args)), []
        if args.token == "azure-native:network:getPrivateEndpoint":
            return self._private_endpoint_read(dict(args.args)), []
        return {}, []

    def _private_endpoint(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        """The endpoint's NIC gets the next free address of its subnet (Azure keeps .0-.3)."""
        rg = args.inputs.get("resourceGroupName", "rg")
        nic_name = str(args.inputs.get("customNetworkInterfaceName") or f"{_azure_name(args)}.nic")
        subnet = args.inputs.get("subnet") or {}
        prefix = self._subnet_prefixes.get(subnet.get("id", "") if isinstance(subnet, dict) else "", "10.0.0.0/24")
        subnet_net = ipaddress.ip_network(prefix)
        with self._nic_lock:  # reading the taken addresses while another thread adds one raised RuntimeError
            taken = {ip for ip in self._nic_ips.values() if ipaddress.ip_address(ip) in subnet_net}
            self._nic_ips[nic_name] = next(str(a) for i, a in enumerate(subnet_net) if i >= 4 and str(a) not in taken)
        nic_id = _arm_id(SUBSCRIPTION_ID, rg, "Microsoft.Network/networkInterfaces", nic_name)
        return {"networkInterfaces": [{"id": nic_id}]}

    def _firewall_ip_configurations(self, args: pulumi.runtime.MockResourceArgs) -> list[dict[str, Any]]:
        """Azure Firewall takes the first usable address of AzureFirewallSubnet (.4; Azure keeps .0-.3)."""
        configs = []
        for config in args.inputs.get("ipConfigurations") or []:
            subnet = (config.get("subnet") or {}).get("id", "")
            prefix = self._subnet_prefixes.get(subnet, "10.0.0.0/26")
            configs.append({**config, "privateIPAddress": str(ipaddress.ip_network(prefix)[4])})
        return configs

    def _private_endpoint_read(self, inputs: dict[str, Any]) -> dict[str, Any]:
        name = str(inputs.get("privateEndpointName", "pe"))
        rg = str(inputs.get("resourceGroupName", "rg"))
        pe_id = _arm_id(SUBSCRIPTION_ID, rg, "Microsoft.Network/privateEndpoints", name)
        return {
            "id": pe_id,
            "name": name,
            "provisioningState": "Succeeded",
            "manualPrivateLinkServiceConnections": [
                {
                    "id": f"{pe_id}/manualPrivateLinkServiceConnections/{name}-conn",
                    "name": f"{name}-conn",
                    "privateLinkServiceConnectionState": {
                        "status": self.manual_connection_status,
                        "description": "",
                        "actionsRequired": "None",
                    },
                }
            ],
        }

    def _network_interface(self, inputs: dict[str, Any]) -> dict[str, Any]:
        name = str(inputs.get("networkInterfaceName", "nic"))
        rg = str(inputs.get("resourceGroupName", "rg"))
        nic_id = _arm_id(SUBSCRIPTION_ID, rg, "Microsoft.Network/networkInterfaces", name)
        ip = self._nic_ips.get(name, "10.255.255.4")
        return {
            "id": nic_id,
            "name": name,
            "ipConfigurations": [
                {
                    "id": f"{nic_id}/ipConfigurations/privateEndpointIpConfig",
                    "name": "privateEndpointIpConfig",
                    "privateIPAddress": ip,
                    "privateIPAllocationMethod": "Dynamic",
                    "primary": True,
                }
            ],
        }


def _output_shape(outputs: dict[str, Any]) -> dict[str, Any]:
    """Where a provider's output differs in shape from its input, answer in the output's shape."""
    identity = outputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # Azure answers with a map keyed by identity id, not the input list.
        outputs["identity"] = {
            **identity,
            "userAssignedIdentities": {
                i: {"principalId": TENANT_ID, "clientId": TENANT_ID}
                for i in identity["userAssignedIdentities"]
                if isinstance(i, str)
            },
        }
    return outputs


class RecordingMonitor(mocks.MockMonitor):
    """Keeps every RegisterResourceRequest (parent, dependencies, provider, options) and Invoke."""

    def __init__(self, mocks_: PlatformMocks, preview: bool) -> None:
        super().__init__(mocks_)
        self.preview = preview
        self.records: list[PlannedResource] = []
        self.invocations: list[Invocation] = []
        self.outputs_by_urn: dict[str, dict[str, Any]] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """A URN as the real engine makes it: the parent's whole qualified type chain, root stack left out.

        The SDK's MockMonitor keeps only the parent's last type, which would hide every URN change of
        a resource nested two levels deep (pulumi/pulumi pkg/resource/deploy/deployment.go, generateURN).
        """
        if not parent or parent.split("::")[2] == "pulumi:pulumi:Stack":
            return super().make_urn("", type_, name)
        return "::".join(["urn:pulumi:" + get_stack(), get_project(), f"{parent.split('::')[2]}${type_}", name])

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
        state = self.resources.get(response.urn)
        outputs: dict[str, Any] = {}
        if state is not None and not self.preview:
            outputs = {k: v for k, v in state.state.items() if k not in inputs}
        self.records.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                inputs=inputs,
                parent=request.parent or None,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                provider=request.provider or None,
                id=response.id or None,
                outputs=_plain(outputs),
                options={
                    "protect": request.protect,
                    "ignoreChanges": list(request.ignoreChanges),
                    "deleteBeforeReplace": request.deleteBeforeReplace,
                    "retainOnDelete": request.retainOnDelete,
                    "aliases": len(request.aliases),
                },
                aliases=[_alias(a) for a in request.aliases],
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        self.outputs_by_urn[request.urn] = json_format.MessageToDict(request.outputs, preserving_proto_field_name=True)
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request: Any) -> Any:  # noqa: N802
        self.invocations.append(
            Invocation(
                token=request.tok, args=json_format.MessageToDict(request.args, preserving_proto_field_name=True)
            )
        )
        return super().Invoke(request)


def _alias(alias: Any) -> dict[str, Any]:
    """An alias as the engine receives it: a full URN, or a spec's non-empty fields."""
    if alias.WhichOneof("alias") == "urn":
        return {"urn": alias.urn}
    spec = alias.spec
    fields = {"name": spec.name, "type": spec.type, "stack": spec.stack, "project": spec.project}
    recorded: dict[str, Any] = {k: v for k, v in fields.items() if v}
    if spec.WhichOneof("parent") == "noParent" and spec.noParent:
        recorded["noParent"] = True
    elif spec.WhichOneof("parent") == "parentUrn" and spec.parentUrn:
        recorded["parentUrn"] = spec.parentUrn
    return recorded


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# ----------------------------------------------------------------------------- run


def run_stack(
    stack: str,
    preview: bool = True,
    root: Path = REPO_ROOT,
    config_overrides: dict[str, Any] | None = None,
    *,
    as_real_deploy: bool = False,
) -> Plan:
    """Evaluate the stack program for `stack`; raise StackProgramError if it fails.

    `config_overrides` replaces (value) or removes (None) fully qualified keys,
    which is how tests feed a broken config through the real program.
    `as_real_deploy` (with preview=False) makes the program behave as under a real
    `pulumi up`, which refuses example values (stack_config/examples.py); otherwise
    the program knows it runs offline, where nothing is deployed.
    """
    lazy_sdk.postpone_annotations("pulumi_databricks", "pulumi_confluentcloud", "pulumi_azure_native")
    lazy_sdk.speed_up_runtime()
    for package in LAZY_SDKS:
        lazy_sdk.install(package)
    alias_urns.install()
    values, secret_keys = stack_config_values(stack, root)
    stand_ins = _stand_in_missing_secrets(values, secret_keys)
    for key, value in (config_overrides or {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value if isinstance(value, str) else json.dumps(value)
    project = load_project(root)["name"]
    # A fresh context per run: config and settings are ContextVars, so stacks never leak into each other.
    context = contextvars.Context()
    context.run(examples.OFFLINE_ENGINE.set, not as_real_deploy)
    plan = context.run(_run, project, stack, preview, root, values, secret_keys)
    plan.secret_stand_ins = [key for key in stand_ins if values.get(key, "").startswith(OFFLINE_STAND_IN_PREFIX)]
    return plan


def _stand_in_missing_secrets(values: dict[str, str], secret_keys: list[str]) -> list[str]:
    """Marked secret stand-ins for each secret the config needs but the stack file lacks (a real run refuses)."""
    from stack_config.secrets import required_secrets

    stand_ins: list[str] = []
    for secret in required_secrets(values.get):
        if values.get(secret.key) in (None, ""):
            values[secret.key] = OFFLINE_STAND_IN_PREFIX + secret.key
            secret_keys.append(secret.key)
            stand_ins.append(secret.key)
    return stand_ins


def _run(project: str, stack: str, preview: bool, root: Path, values: dict[str, str], secret_keys: list[str]) -> Plan:
    mocks_ = PlatformMocks(preview)
    monitor = RecordingMonitor(mocks_, preview)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        runtime_config.set_all_config(values, secret_keys)
        mocks.set_mocks(mocks_, project=project, stack=stack, preview=preview, monitor=monitor)
        # set_mocks installs a root stack for unit tests; the language host makes its own.
        settings.set_root_resource(None)  # type: ignore[arg-type]
        program = root / "__main__.py"
        sys.path.insert(0, str(root))
        errors: list[BaseException] = []

        def body() -> None:
            try:
                runpy.run_path(str(program), run_name="__main__")
            except BaseException as exc:
                errors.append(exc)
                raise

        try:
            loop.run_until_complete(run_in_stack(body))
        except BaseException as exc:
            raise StackProgramError(stack, errors[0] if errors else exc, len(monitor.records)) from exc
        finally:
            sys.path.remove(str(root))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    stack_urn = next((u for u in monitor.outputs_by_urn if u.split("::")[2] == "pulumi:pulumi:Stack"), None)
    outputs = _decode(monitor.outputs_by_urn.get(stack_urn, {})) if stack_urn else {}
    return Plan(
        project=project,
        stack=stack,
        preview=preview,
        resources=monitor.records,
        outputs=outputs,
        invokes=monitor.invocations,
    )


def _decode(value: Any) -> Any:
    """Stack outputs as the CLI shows them: secrets stay masked, unknowns say so."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return "[secret]"
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if value == UNKNOWN:
        return "(known after apply)"
    return value
