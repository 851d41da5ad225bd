"""Bad config tried as a hostile user would: exit 2 with file and line or key, never a traceback.

Stack files are fed to the real `python -m offline.preview` entry point from a copy of the
project directory; config values go through the real program with `run_stack` overrides.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from offline import preview, stack_file
from offline.engine import REPO_ROOT, StackProgramError, run_stack, stack_config_values
from stack_config import ConfigError, examples
from stack_config.loader import parse_stack_config

NS = "rta-platform"
DEV = (REPO_ROOT / "Pulumi.dev.yaml").read_text()


def _preview_file(tmp_path: Path, text: str) -> tuple[int, str]:
    """Run the preview command on a stack file holding `text`, in a copy of the project."""
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.evil.yaml").write_text(text)
    out = io.StringIO()
    code = preview.main(["--stack", "evil", "--no-policies", "--json", str(tmp_path / "plan.json")], out, tmp_path)
    return code, out.getvalue()


BROKEN_FILES: list[tuple[str, str, str]] = [
    ("syntax error", DEV.replace("  rta-platform:lock:\n", "  rta-platform:lock: [\n"), "Pulumi.evil.yaml:"),
    ("top level is a list", "- config\n- x\n", "Pulumi.evil.yaml:1:1: the top level must be a mapping"),
    ("config is a string", "config: everything\n", "Pulumi.evil.yaml:1:9: `config:` must be a mapping"),
    (
        "unquoted date",
        "config:\n  rta-platform:confluent:\n    apiKeyExpiry: 2027-06-30\n",
        "Pulumi.evil.yaml:3:19: 2027-06-30 is a date in YAML 1.1",
    ),
    (
        "YAML 1.1 boolean in a symbol list",
        DEV.replace("symbols: [AAPL, MSFT, NVDA]", "symbols: [AAPL, ON, NVDA]"),
        "ON is a boolean in YAML 1.1",
    ),
    ("alias", "config:\n  a: &x [1, 2]\n  b: *x\n", "Pulumi.evil.yaml:2:6: this value is reused through an alias"),
    ("recursive alias", "config:\n  a: &x [1, *x]\n", "Pulumi.evil.yaml:2:6: this value is reused through an alias"),
    ("binary value", "config:\n  rta-platform:x: !!binary aGVsbG8=\n", "config.rta-platform:x holds a bytes"),
    ("non-string key", "config:\n  7: x\n", "key 7 under config must be a string"),
    ("deep nesting", "config:\n  a: " + "[" * 20000 + "]" * 20000 + "\n", "nested more than 64 levels deep"),
]


@pytest.mark.parametrize(("case", "text", "expected"), BROKEN_FILES, ids=[b[0] for b in BROKEN_FILES])
def test_broken_stack_file_exits_2_naming_file_and_line(tmp_path: Path, case: str, text: str, expected: str) -> None:
    code, out = _preview_file(tmp_path, text)
    assert code == preview.EXIT_CONFIG, out
    assert expected in out, out
    assert "Traceback" not in out


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path: Path) -> None:
    """Nine levels of ten aliases would be 10^9 strings if expanded; refused at the first alias."""
    lines = ["a0: &a0 lol"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    code, out = _preview_file(tmp_path, "\n".join(lines) + "\nconfig: *a9\n")
    assert code == preview.EXIT_CONFIG
    assert "Pulumi.evil.yaml:1:" in out and "reused through an alias" in out
    assert out.count("reused through an alias") <= 10, "each shared value is reported once, not once per use"


def test_a_multi_megabyte_value_is_refused_by_size_and_never_echoed(tmp_path: Path) -> None:
    big = "x" * 3_000_000
    code, out = _preview_file(tmp_path, f"config:\n  rta-platform:namePrefix: {big}\n")
    assert code == preview.EXIT_CONFIG
    assert "Pulumi.evil.yaml: 3,000," in out and "line 2" in out
    assert len(out) < 2_000, "the value is named, not printed"


def test_a_multi_megabyte_set_value_is_a_config_error_not_echoed() -> None:
    out = io.StringIO()
    code = preview.main(["--stack", "dev", "--set", f"{NS}:namePrefix={'y' * 1_000_000}"], out)
    assert code == preview.EXIT_CONFIG
    assert f"--set {NS}:namePrefix" in out.getvalue() and len(out.getvalue()) < 500


def test_several_scalar_ambiguities_are_all_reported(tmp_path: Path) -> None:
    text = "config:\n  a: [ON, yes]\n  b: 2027-01-01\n  c: 1:30\n"
    with pytest.raises(stack_file.StackFileError) as info:
        (tmp_path / "Pulumi.x.yaml").write_text(text)
        stack_file.load(tmp_path / "Pulumi.x.yaml")
    assert [p.split(": ")[0] for p in info.value.problems] == [
        "Pulumi.x.yaml:2:7",
        "Pulumi.x.yaml:2:11",
        "Pulumi.x.yaml:3:6",
        "Pulumi.x.yaml:4:6",
    ]


def test_yaml_1_2_values_still_load(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.x.yaml").write_text('config:\n  a: [true, FALSE, "ON", "2027-06-30", 1.5, 7, null, n]\n')
    assert stack_file.load(tmp_path / "Pulumi.x.yaml") == {
        "config": {"a": [True, False, "ON", "2027-06-30", 1.5, 7, None, "n"]}
    }


# ----------------------------------------------------------------------------- CLI misuse


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--stack", "nope"], "unknown stack 'nope'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--set", "noNamespace=1"], "--set expects NAMESPACE:KEY=VALUE"),
        (["--json", "/proc/plan.json"], "--json: cannot write the plan there"),
        (["--json", "/"], "--json: cannot write the plan there: / is a directory"),
    ],
)
def test_cli_misuse_has_its_own_exit_code(argv: list[str], expected: str) -> None:
    out = io.StringIO()
    assert preview.main([*argv, "--no-policies"], out) == preview.EXIT_USAGE
    assert expected in out.getvalue()


def test_exit_codes_are_distinct_and_documented() -> None:
    codes = [preview.EXIT_OK, preview.EXIT_POLICY, preview.EXIT_CONFIG, preview.EXIT_APPLY, preview.EXIT_USAGE]
    assert len(set(codes)) == len(codes)
    readme = (REPO_ROOT / "README.md").read_text()
    for code in codes:
        assert f"{code} " in preview.__doc__  # type: ignore[operator]
        assert f"`{code}`" in readme, f"README does not document exit code {code}"


# ----------------------------------------------------------------------------- example values


def _config(stack: str) -> dict[str, Any]:
    values, secret = stack_config_values(stack)
    return {k: (json.loads(v) if v[:1] in "[{" else v) for k, v in values.items() if k not in secret}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_real_up_refuses_each_example_value_by_key(stack: str) -> None:
    found = examples.find_examples(_config(stack))
    assert {p for p, _ in found} >= {f"{NS}:databricks.metastoreId", f"{NS}:sql.adminGroup.objectId"}
    with pytest.raises(StackProgramError) as info:
        run_stack(stack, preview=False, as_real_deploy=True)
    assert isinstance(info.value.cause, ConfigError) and info.value.registered == 0
    problems = info.value.cause.problems
    assert len(problems) == len(found), "one message per key"
    for path, _ in found:
        assert sum(p.startswith(f"{path} is ") for p in problems) == 1, path


def test_real_values_pass_a_real_up_check() -> None:
    real = {
        f"{NS}:sql": {"adminGroup": {"objectId": "9c4e2a61-7b5d-4f08-8e3a-1d2c6b9f0e42"}},
        f"{NS}:dashboards": {"notificationEmails": ["desk@contoso.com"]},
    }
    assert examples.find_examples(real) == []
    for placeholder in (
        "00000000-0000-0000-0000-000000000000",
        "11111111-1111-1111-1111-111111111111",
        "12345678-1234-1234-1234-123456789012",
        "ops@example.org",
        "ops@corp.example",
        "host.test",
    ):
        assert examples.example_kind(placeholder), placeholder


def test_the_offline_preview_marks_example_values(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert preview.main(["--stack", "dev", "--no-policies", "--quiet"], out) == preview.EXIT_OK
    text = out.getvalue()
    assert "Example values (" in text and f"{NS}:databricks.metastoreId: an example GUID" in text


# ----------------------------------------------------------------------------- config rules


def _problems(stack: str, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(StackProgramError) as info:
        run_stack(stack, preview=True, config_overrides=overrides)
    assert isinstance(info.value.cause, ConfigError), repr(info.value.cause)
    assert info.value.registered == 0
    return info.value.cause.problems


def _prod(key: str, **changes: Any) -> dict[str, Any]:
    section = json.loads(stack_config_values("prod")[0][f"{NS}:{key}"])
    section.update(changes)
    return {f"{NS}:{key}": section}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (_prod("dataLake", replication="GRS"), "dataLake.replication 'GRS' is not zone-redundant"),
        (_prod("eventHubs", zoneRedundant=False), "eventHubs.zoneRedundant must be true in prod"),
        (_prod("keyVault", sku="standard"), "encryption.keyType RSA-HSM needs keyVault.sku premium"),
        (
            _prod("databricks", dbfsRootKeyPhase=None),
            "databricks.encryptDbfsRoot is false in prod without a named phase",
        ),
        (
            _prod("databricks", encryptDbfsRoot=True),
            "databricks.dbfsRootKeyPhase 'prepare' names the phase before encryptDbfsRoot",
        ),
    ],
    ids=["storage-zones", "eventhubs-zones", "hsm-standard-vault", "dbfs-phase-missing", "dbfs-phase-stale"],
)
def test_prod_guard_rails_live_in_config(overrides: dict[str, Any], expected: str) -> None:
    overrides = {k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in overrides.items()}
    problems = _problems("prod", overrides)
    assert any(expected in p for p in problems), problems


def test_field_errors_do_not_hide_cross_field_and_prod_rules() -> None:
    problems = _problems(
        "prod",
        {
            **_prod("monitoring", retentionDays=1),
            **_prod("dataLake", replication="LRS"),
            f"{NS}:lock": {"enabled": False},
            f"{NS}:ingestion": {"provider": "eventhubs", "tradesStream": "orders"},
        },
    )
    for expected in (
        f"{NS}:monitoring.retentionDays = 1",
        "lock.enabled must be true in prod",
        "dataLake.replication 'LRS' is not zone-redundant",
        "ingestion.tradesStream 'orders' is not one of eventHubs.hubs",
    ):
        assert any(expected in p for p in problems), (expected, problems)


def test_a_name_over_azure_limits_is_refused_before_any_resource() -> None:
    problems = _problems("prod", {f"{NS}:namePrefix": "abcdefgh"})
    assert any("derived keyvault name" in p and "exceeds 24 characters" in p for p in problems), problems


def test_secret_values_are_never_echoed() -> None:
    raw = {"environment": "dev", "location": "westeurope", "tags": {}, "network": "hunter2-network-secret"}
    with pytest.raises(ConfigError) as info:
        parse_stack_config(raw, "dev", secret_keys=frozenset({"network"}))
    message = str(info.value)
    assert f"{NS}:network = (value hidden" in message and "hunter2" not in message
    raw["monitoring"] = {"retentionDays": 30, "clientSecret": "hunter3"}
    with pytest.raises(ConfigError) as info:
        parse_stack_config(raw, "dev")
    assert "hunter3" not in str(info.value)


def test_long_values_are_cut_in_messages() -> None:
    raw = {"environment": "x" * 10_000, "location": "westeurope"}
    with pytest.raises(ConfigError) as info:
        parse_stack_config(raw, "dev")
    assert "(10,002 characters)" in str(info.value) and len(str(info.value)) < 2_000
