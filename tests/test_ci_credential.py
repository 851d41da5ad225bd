"""tools/ci_credential.py: the one credential the deploy workflow's tools use (smoke job, report publish)."""

from __future__ import annotations

import io
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from azure.identity import ClientAssertionCredential, DefaultAzureCredential

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import ci_credential  # noqa: E402

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"
GITHUB = {
    "GITHUB_ACTIONS": "true",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.example/idtoken?api-version=2.0",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
}


def test_on_github_actions_the_job_token_is_exchanged_for_the_deployment_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[urllib.request.Request] = []

    def urlopen(req: urllib.request.Request, timeout: float) -> Any:
        seen.append(req)
        return io.BytesIO(json.dumps({"value": "github-jwt"}).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    credential = ci_credential.ci_credential({**GITHUB, "ARM_TENANT_ID": TENANT, "ARM_CLIENT_ID": CLIENT})
    assert isinstance(credential, ClientAssertionCredential)
    assert seen == [], "no GitHub token is fetched until a token is needed"
    # The assertion it will present: the job's OIDC token for Entra ID's exchange audience, fetched fresh.
    assert credential._func() == "github-jwt"  # azure-identity calls this on every token acquisition
    (req,) = seen
    url = urllib.parse.urlsplit(req.full_url)
    assert req.full_url.startswith(GITHUB["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&")
    assert urllib.parse.parse_qs(url.query) == {"api-version": ["2.0"], "audience": ["api://AzureADTokenExchange"]}
    assert req.get_header("Authorization") == "Bearer request-token"


@pytest.mark.parametrize("missing", ["ARM_TENANT_ID", "ARM_CLIENT_ID"])
def test_an_oidc_token_without_an_identity_to_exchange_it_for(missing: str) -> None:
    env = {**GITHUB, "ARM_TENANT_ID": TENANT, "ARM_CLIENT_ID": CLIENT}
    env.pop(missing)
    with pytest.raises(ci_credential.CredentialError, match=f"^{missing} not set"):
        ci_credential.ci_credential(env)


def test_github_actions_without_id_token_permission() -> None:
    with pytest.raises(ci_credential.CredentialError, match="needs `permissions: id-token: write`"):
        ci_credential.ci_credential({"GITHUB_ACTIONS": "true", "ARM_TENANT_ID": TENANT, "ARM_CLIENT_ID": CLIENT})


def test_off_github_actions_the_default_chain() -> None:
    assert isinstance(ci_credential.ci_credential({}), DefaultAzureCredential)


def test_the_smoke_job_and_the_report_publish_share_it() -> None:
    for tool in ("run_smoke_job.py", "publish_report.py"):
        text = (ROOT / "tools" / tool).read_text(encoding="utf-8")
        assert "from ci_credential import CredentialError, ci_credential" in text, tool
        assert "ClientAssertionCredential" not in text and "ACTIONS_ID_TOKEN" not in text, tool
