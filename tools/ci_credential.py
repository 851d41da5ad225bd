"""The Azure credential of the tools the deploy workflow runs after `pulumi up` (one helper, shared).

On GitHub Actions, a job granted `permissions: id-token: write` gets ACTIONS_ID_TOKEN_REQUEST_URL and
ACTIONS_ID_TOKEN_REQUEST_TOKEN; a GET of that URL with `&audience=api://AzureADTokenExchange` (the audience an
Entra ID federated credential expects) and the request token as bearer returns the job's OIDC token in `value`
(GitHub docs, "OpenID Connect" in "Security hardening your deployments"). That token is exchanged for the
deployment identity the job's variables name (ARM_TENANT_ID, ARM_CLIENT_ID): the same identity and federated
credential `pulumi up` uses with ARM_USE_OIDC. azure-identity's ClientAssertionCredential calls its `func` every
time it needs a new token (its docstring), so a fresh, short-lived GitHub token is fetched on each exchange.

Off GitHub Actions: DefaultAzureCredential without the interactive browser (a developer's `az login`, a runner's
managed identity).

A job on GitHub Actions without an OIDC token, or without ARM_TENANT_ID / ARM_CLIENT_ID, gets a CredentialError
that says what to set, instead of a late token failure.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

AUDIENCE = "api://AzureADTokenExchange"


class CredentialError(RuntimeError):
    """The environment lacks what the credential needs; the message says what to set."""


def github_oidc_token(request_url: str, request_token: str) -> str:
    """The job's GitHub OIDC token for Entra ID's token exchange."""
    url = f"{request_url}&audience={urllib.parse.quote(AUDIENCE, safe='')}"  # as @actions/core getIDToken encodes it
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {request_token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        value: str = json.load(resp)["value"]
        return value


def ci_credential(environ: Mapping[str, str] | None = None) -> Any:
    """An azure-identity TokenCredential: the deployment identity on GitHub Actions, else DefaultAzureCredential."""
    env = os.environ if environ is None else environ
    request_url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
    request_token = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if request_url and request_token:
        missing = [k for k in ("ARM_TENANT_ID", "ARM_CLIENT_ID") if not env.get(k)]
        if missing:
            raise CredentialError(
                f"{' and '.join(missing)} not set: the job has an OIDC token but no deployment identity to "
                "exchange it for (set them from vars.* in the job's env, docs/delivery.md)"
            )
        from azure.identity import ClientAssertionCredential

        return ClientAssertionCredential(
            env["ARM_TENANT_ID"], env["ARM_CLIENT_ID"], lambda: github_oidc_token(request_url, request_token)
        )
    if env.get("GITHUB_ACTIONS") == "true":
        raise CredentialError(
            "running on GitHub Actions without an OIDC token: the job needs `permissions: id-token: write` "
            "(ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN are unset)"
        )
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)
