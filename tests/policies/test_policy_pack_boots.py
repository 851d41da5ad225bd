"""The pack starts the way the Pulumi CLI starts it and answers the engine over gRPC.

The CLI's Python language host runs `python -m pulumi.policy <engine> <pack dir>`,
which executes `policies/__main__.py`; PolicyPack then serves the Analyzer
service and prints its port. This test does exactly that in a subprocess and
talks to it with the engine's own stubs.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import zero_trust
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from offline import policy_runner

POLICY_DIR = Path(policy_runner.POLICY_DIR)


def _struct(value: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(POLICY_DIR)],
        cwd=POLICY_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline() if proc.stdout else ""), daemon=True).start()
    try:
        try:
            port = int(lines.get(timeout=60).strip())
        except (queue.Empty, ValueError):
            proc.kill()
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"the pack did not print its port; stderr:\n{err}")
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_info_lists_every_policy_with_explicit_levels(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == zero_trust.PACK_NAME
    assert info.supportsConfig
    assert [p.name for p in info.policies] == [p.name for p in zero_trust.ALL_POLICIES]
    expected = {p.name: p.meta.enforcement.value for p in zero_trust.ALL_POLICIES}
    for p in info.policies:
        assert policy_runner._PROTO_TO_LEVEL[p.enforcementLevel] == expected[p.name]
        assert p.severity != proto.POLICY_SEVERITY_UNSPECIFIED, p.name
        assert p.remediation_steps and p.description, p.name
    schemas = {p.name: json_format.MessageToDict(p.configSchema.properties) for p in info.policies}
    assert schemas["required-tags"]["requiredTags"]["type"] == "array"


def test_configure_then_analyze_like_the_engine(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    doc, _ = policy_runner.load_config(policy_runner.CONFIG_DIR / "prod.json")
    resolved = policy_runner.reconcile(info, doc)
    analyzer.Configure(
        proto.ConfigureAnalyzerRequest(
            policyConfig={
                name: proto.PolicyConfig(
                    enforcementLevel=policy_runner._LEVEL_TO_PROTO[c.level], properties=_struct(c.properties)
                )
                for name, c in resolved.items()
            }
        )
    )
    account = {
        "accountName": "st",
        "location": "westeurope",
        "tags": {"environment": "prod"},
        "minimumTlsVersion": "TLS1_2",
        "publicNetworkAccess": "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # unknown during preview
    }
    response = analyzer.Analyze(
        proto.AnalyzeRequest(
            type="azure-native:storage:StorageAccount",
            properties=_struct(account),
            urn="urn:pulumi:prod::rta-platform::azure-native:storage:StorageAccount::st",
            name="st",
        )
    )
    found = {d.policyName: d for d in response.diagnostics}
    assert found["storage-no-shared-key"].enforcementLevel == proto.MANDATORY
    assert "allowSharedKeyAccess" in found["storage-no-shared-key"].message
    assert "required-tags" in found  # prod config requires more tag keys
    assert "storage-public-network-disabled" not in found  # unknown: judged at `pulumi up`
    assert not any(d.message.startswith("can't run policy") for d in response.diagnostics)

    vault = proto.AnalyzerResource(
        type="azure-native:keyvault:Vault",
        properties=_struct({"vaultName": "kv", "properties": {}}),
        urn="urn:pulumi:prod::rta-platform::azure-native:keyvault:Vault::kv",
        name="kv",
    )
    stack = analyzer.AnalyzeStack(proto.AnalyzeStackRequest(resources=[vault]))
    names = {d.policyName for d in stack.diagnostics}
    assert {"keyvault-private-endpoint", "keyvault-audit-logs", "diagnostic-settings-present"} <= names
    assert all(d.urn == vault.urn for d in stack.diagnostics)
