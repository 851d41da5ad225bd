"""Stack files ship no undecryptable secret, pin a secrets provider, and the preview names what is missing.

Pulumi decrypts a `secure:` value with the stack's data key: for a cloud secrets
provider that key is the `encryptedkey:` beside it in the stack file (Pulumi's
stack settings file reference), so a `secure:` value without one cannot be
decrypted and every real preview fails while loading config (issue #39 case 1).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.engine import OFFLINE_STAND_IN_PREFIX, StackProgramError, list_stacks, run_stack
from offline.plan import Plan
from offline.preview import render_secrets
from stack_config import ConfigError
from stack_config.confluent import CLOUD_API_KEY, CLOUD_API_SECRET
from stack_config.secrets import required_secrets

REPO = Path(__file__).resolve().parent.parent
# azurekeyvault://<vault>.vault.azure.net/keys/<key> (`pulumi stack init --secrets-provider` docs).
KEY_VAULT_PROVIDER = re.compile(r"azurekeyvault://[a-zA-Z0-9-]{3,24}\.vault\.azure\.net/keys/[a-zA-Z0-9-]{1,127}")


def stack_file(stack: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    return doc


def secure_keys(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [path]
        return [k for key, v in value.items() for k in secure_keys(v, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        return [k for i, v in enumerate(value) for k in secure_keys(v, f"{path}[{i}]")]
    return []


def test_the_shipped_stacks_are_dev_prod_and_confluent() -> None:
    assert {"dev", "prod", "confluent"} <= set(list_stacks())


@pytest.mark.parametrize("stack", ["dev", "prod", "confluent"])
def test_every_stack_pins_a_key_vault_secrets_provider(stack: str) -> None:
    provider = stack_file(stack).get("secretsprovider")
    assert isinstance(provider, str) and KEY_VAULT_PROVIDER.fullmatch(provider), provider


@pytest.mark.parametrize("stack", ["dev", "prod", "confluent"])
def test_no_secure_value_without_the_data_key_that_decrypts_it(stack: str) -> None:
    doc = stack_file(stack)
    ciphertexts = secure_keys(doc.get("config") or {})
    if ciphertexts:
        assert doc.get("encryptedkey"), f"Pulumi.{stack}.yaml: {ciphertexts} cannot be decrypted (no encryptedkey)"


def test_the_rule_bites_on_a_placeholder_like_the_old_one() -> None:
    old = {"config": {CLOUD_API_KEY: {"secure": "v1:placeholderNonce:placeholderCiphertextForCloudApiKey"}}}
    assert secure_keys(old["config"]) == [CLOUD_API_KEY] and not old.get("encryptedkey")


def test_confluent_needs_its_cloud_api_key_and_nothing_else_does() -> None:
    confluent = {"rta-platform:ingestion": '{"provider": "confluent", "tradesStream": "trades"}'}
    assert [s.key for s in required_secrets(confluent.get)] == [CLOUD_API_KEY, CLOUD_API_SECRET]
    assert required_secrets({"rta-platform:ingestion": '{"provider": "eventhubs"}'}.get) == []
    assert required_secrets({}.get) == []


def test_the_offline_preview_stands_in_marked_secrets_and_names_them(confluent_preview_plan: Plan) -> None:
    assert confluent_preview_plan.secret_stand_ins == [CLOUD_API_KEY, CLOUD_API_SECRET]
    out = io.StringIO()
    render_secrets(confluent_preview_plan, out)
    text = out.getvalue()
    assert "Secrets a real `pulumi up` needs (not in Pulumi.confluent.yaml" in text
    for key in (CLOUD_API_KEY, CLOUD_API_SECRET):
        assert f"pulumi config set --secret {key} <value> --stack confluent" in text
    # The stand-in never leaves the secret envelope.
    provider = next(r for r in confluent_preview_plan.resources if r.type == "pulumi:providers:confluentcloud")
    assert all(OFFLINE_STAND_IN_PREFIX not in str(v) for k, v in provider.inputs.items() if not isinstance(v, dict))
    assert OFFLINE_STAND_IN_PREFIX not in str(confluent_preview_plan.outputs)


def test_event_hubs_stacks_need_no_stand_in(dev_preview_plan: Plan, prod_preview_plan: Plan) -> None:
    assert dev_preview_plan.secret_stand_ins == [] and prod_preview_plan.secret_stand_ins == []
    out = io.StringIO()
    render_secrets(dev_preview_plan, out)
    assert out.getvalue() == ""


def test_a_real_run_without_the_secret_names_the_exact_command() -> None:
    with pytest.raises(StackProgramError) as info:
        run_stack("confluent", preview=True, config_overrides={CLOUD_API_SECRET: None})
    cause = info.value.cause
    assert isinstance(cause, ConfigError)
    assert (
        f"{CLOUD_API_SECRET} is required when ingestion.provider is 'confluent' but not set "
        f"(pulumi config set --secret {CLOUD_API_SECRET} <value> --stack confluent)"
    ) in cause.problems
    assert info.value.registered == 0
