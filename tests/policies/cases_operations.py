"""Cases for operations-alerting (MO-04): action group, alerts on every store, activity-log alerts, budget."""

from __future__ import annotations

from tests.policies.cases import case
from tests.policies.synthetic import res

AZ = "azure-native:"
_RG = res(AZ + "resources:ResourceGroup", "rg", {"resourceGroupName": "rg"})
_AG = res(AZ + "monitor:ActionGroup", "ag", {"groupShortName": "ops", "location": "Global"})
_VAULT = res(AZ + "keyvault:Vault", "kv", {"vaultName": "kv"})


def _metric(name: str, target: object, group: object = _AG, **inputs: object) -> object:
    return res(
        AZ + "monitor:MetricAlert",
        name,
        {"enabled": True, "scopes": ["<vault id>"], "actions": [{"actionGroupId": "<ag id>"}], **inputs},
        deps={"scopes": [target], "actions": [group]},  # type: ignore[list-item]
    )


_ACTIVITY = res(
    AZ + "monitor:ActivityLogAlert",
    "deletes",
    {"scopes": ["<rg id>"], "actions": {"actionGroups": [{"actionGroupId": "<ag id>"}]}},
    deps={"actions": [_AG]},
)
_BUDGET = res(
    AZ + "consumption:Budget",
    "budget",
    {
        "amount": 10,
        "notifications": {"actual-80": {"threshold": 80, "contactGroups": ["<ag id>"], "contactEmails": []}},
    },
    deps={"notifications": [_AG]},
)
_WATCHED = [_RG, _AG, _VAULT, _metric("kv-availability", _VAULT), _ACTIVITY, _BUDGET]

_LAKE = res(AZ + "storage:StorageAccount", "lake", {"accountName": "lake", "isHnsEnabled": True})
# Not a data lake (no hierarchical namespace): a flow-log account needs no alert of its own.
_LOGS = res(AZ + "storage:StorageAccount", "logs", {"accountName": "logs"})
_LAKE_ALERT = _metric("lake-availability", _LAKE)

case(
    "operations-alerting",
    "nothing to be told by fails; no budget, no activity-log alert, no action group fail",
    bad=[
        [_RG],  # nothing at all: no action group, alert, activity alert or budget
        [x for x in _WATCHED if x is not _BUDGET],
        [x for x in _WATCHED if x is not _ACTIVITY],
    ],
    good=[_WATCHED],
    blame="rg",
)
case(
    "operations-alerting",
    "a store without an enabled alert of its own",
    bad=[
        [_RG, _AG, _VAULT, _LAKE, _LAKE_ALERT, _ACTIVITY, _BUDGET],
        [_RG, _AG, _VAULT, _LAKE, _LAKE_ALERT, _metric("kv-off", _VAULT, enabled=False), _ACTIVITY, _BUDGET],
    ],
    good=[[*_WATCHED, _LAKE, _LAKE_ALERT], [*_WATCHED, _LOGS]],
    blame="kv",
)
case(
    "operations-alerting",
    "a budget nobody hears from",
    bad=[
        [
            *[x for x in _WATCHED if x is not _BUDGET],
            res(AZ + "consumption:Budget", "mute", {"amount": 10, "notifications": {}}),
        ]
    ],
    good=[_WATCHED],
    blame="mute",
)

_FIREWALL = res(AZ + "network:AzureFirewall", "afw", {"azureFirewallName": "afw"})
case(
    "operations-alerting",
    "a firewall the stack creates without an alert of its own",
    bad=[[*_WATCHED, _FIREWALL]],
    good=[[*_WATCHED, _FIREWALL, _metric("afw-health", _FIREWALL)]],
    blame="afw",
)
