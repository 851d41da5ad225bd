"""tools/publish_report.py: what it hands fabric-cicd, and one clear line for each input it cannot go ahead without.

fabric-cicd's own FabricWorkspace is built (it validates the item types, the repository folder and the
parameter file, and asks the credential for a Fabric token); only its publish_all_items, the part that
calls the service, is replaced by a recorder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "report"
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import ci_credential  # noqa: E402
import publish_report  # noqa: E402

WORKSPACE = "2f1a6c3e-8b7d-4e0a-9c5f-1d2e3f4a5b6c"
SERVER = "sql-rta-prod-weu.database.windows.net"
DATABASE = "rta-gold-prod"


class FakeCredential:
    """A TokenCredential (azure.core's protocol) that records the scopes it is asked for."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        if self.error is not None:
            raise self.error
        return AccessToken("token", 4_102_444_800)  # 2100-01-01: never expires in the test


class Recorder:
    """Stands in for fabric_cicd.publish_all_items; keeps what the workspace held when it was called."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, workspace: Any, **kwargs: Any) -> None:
        repository = Path(workspace.repository_directory)
        self.calls.append(
            {
                "workspace_id": workspace.workspace_id,
                "environment": workspace.environment,
                "item_types": list(workspace.item_type_in_scope),
                "repository": repository,
                "files": sorted(str(p.relative_to(repository)) for p in repository.rglob("*") if p.is_file()),
                "parameters": workspace.environment_parameter,
                "kwargs": kwargs,
            }
        )


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"sqlServerFqdn": SERVER, "sqlDatabaseName": DATABASE, "other": 1}))
    return path


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    import fabric_cicd

    fake = Recorder()
    monkeypatch.setattr(fabric_cicd, "publish_all_items", fake)
    return fake


def _use_credential(monkeypatch: pytest.MonkeyPatch, credential: FakeCredential) -> None:
    monkeypatch.setattr(ci_credential, "ci_credential", lambda: credential)


def test_publishes_the_model_and_report_of_a_copy_with_the_environments_parameters(
    monkeypatch: pytest.MonkeyPatch, outputs: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    credential = FakeCredential()
    _use_credential(monkeypatch, credential)
    monkeypatch.setenv("POWERBI_WORKSPACE_ID", WORKSPACE)

    assert publish_report.main(["--environment", "prod", "--stack-outputs", str(outputs)]) == 0

    (call,) = recorder.calls
    assert call["workspace_id"] == WORKSPACE
    assert call["environment"] == "prod"
    assert call["item_types"] == ["SemanticModel", "Report"]
    assert call["kwargs"] == {}, "no experimental selective-publish options"
    # A copy of report/ (never report/ itself), every file of it, plus the environment's parameter.yml.
    assert call["repository"].resolve() != REPORT.resolve()
    tracked = sorted(str(p.relative_to(REPORT)) for p in REPORT.rglob("*") if p.is_file())
    assert call["files"] == sorted([*tracked, "parameter.yml"])
    # fabric-cicd read that parameter file for "prod": the placeholders become this stack's server and database.
    replaced = {e["find_value"]: e["replace_value"]["prod"] for e in call["parameters"]["find_replace"]}
    assert replaced == {
        publish_report.SERVER_PLACEHOLDER: SERVER,
        publish_report.DATABASE_PLACEHOLDER: f'expression Database = "{DATABASE}"',
    }
    # The token asked for is Fabric's, from the credential the tool was given.
    assert credential.scopes and all(s == ("https://api.fabric.microsoft.com/.default",) for s in credential.scopes)
    assert not call["repository"].exists(), "the copy is removed after the publish"
    assert WORKSPACE in capsys.readouterr().out


def test_workspace_argument_overrides_the_variable(
    monkeypatch: pytest.MonkeyPatch, outputs: Path, recorder: Recorder
) -> None:
    _use_credential(monkeypatch, FakeCredential())
    monkeypatch.setenv("POWERBI_WORKSPACE_ID", "00000000-0000-0000-0000-000000000000")
    argv = ["--environment", "dev", "--workspace-id", WORKSPACE, "--stack-outputs", str(outputs)]
    assert publish_report.main(argv) == 0
    assert [c["workspace_id"] for c in recorder.calls] == [WORKSPACE]


@pytest.mark.parametrize(
    ("workspace_env", "argv_extra", "message"),
    [
        (None, [], "no workspace id: set POWERBI_WORKSPACE_ID"),
        ("", [], "no workspace id: set POWERBI_WORKSPACE_ID"),
        ("my-workspace", [], "POWERBI_WORKSPACE_ID: 'my-workspace' is not a workspace id"),
        (WORKSPACE, ["--workspace-id", "1234"], "--workspace-id: '1234' is not a workspace id"),
    ],
    ids=["unset", "empty", "not-a-guid", "bad-argument"],
)
def test_workspace_id_missing_or_malformed(
    monkeypatch: pytest.MonkeyPatch,
    outputs: Path,
    recorder: Recorder,
    capsys: pytest.CaptureFixture[str],
    workspace_env: str | None,
    argv_extra: list[str],
    message: str,
) -> None:
    _use_credential(monkeypatch, FakeCredential())
    if workspace_env is None:
        monkeypatch.delenv("POWERBI_WORKSPACE_ID", raising=False)
    else:
        monkeypatch.setenv("POWERBI_WORKSPACE_ID", workspace_env)
    assert publish_report.main(["--environment", "dev", "--stack-outputs", str(outputs), *argv_extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert recorder.calls == []


def test_no_credential_on_github_actions_is_one_line(
    monkeypatch: pytest.MonkeyPatch, outputs: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job without `id-token: write`: the shared helper's error, before anything is copied or called."""
    monkeypatch.setenv("POWERBI_WORKSPACE_ID", WORKSPACE)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL", raising=False)
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", raising=False)
    assert publish_report.main(["--environment", "dev", "--stack-outputs", str(outputs)]) == 2
    err = capsys.readouterr().err
    assert "id-token: write" in err and "Traceback" not in err
    assert recorder.calls == []


def test_a_credential_that_gets_no_token_is_one_line(
    monkeypatch: pytest.MonkeyPatch, outputs: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    """fabric-cicd asks for the token when the workspace is built; its TokenError becomes one line, exit 1."""
    _use_credential(monkeypatch, FakeCredential(ClientAuthenticationError("AADSTS700016: application not found")))
    monkeypatch.setenv("POWERBI_WORKSPACE_ID", WORKSPACE)
    assert publish_report.main(["--environment", "dev", "--stack-outputs", str(outputs)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: fabric-cicd could not publish report/ to workspace {WORKSPACE}")
    assert "AADSTS700016" in err and "Traceback" not in err
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({"sqlServerFqdn": SERVER}), "have no sqlDatabaseName (is sql configured?)"),
        ("[secret]", "cannot read `pulumi stack output --json` from it"),
        ("[1, 2]", "not a JSON object of stack outputs"),
        (None, "cannot read `pulumi stack output --json` from it"),
    ],
    ids=["no-sql", "not-json", "not-an-object", "no-file"],
)
def test_stack_outputs_it_cannot_use(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    recorder: Recorder,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    _use_credential(monkeypatch, FakeCredential())
    monkeypatch.setenv("POWERBI_WORKSPACE_ID", WORKSPACE)
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content)
    assert publish_report.main(["--environment", "dev", "--stack-outputs", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err
    assert recorder.calls == []
