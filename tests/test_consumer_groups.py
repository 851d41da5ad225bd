"""The bronze job's Kafka consumer group is the one the stack grants (issue #31 case 11, #39 case 4).

Spark's Kafka source derives every group id it uses from `groupIdPrefix`
(KafkaSourceProvider in apache/spark, external/kafka-0-10-sql):
`<prefix>-<uuid>-<hash of the checkpoint path>`, with `-executor` for the
executors' consumers and `-driver-<n>` for the driver's when the deprecated
consumer-based offset fetching is on. Without a prefix the ids start with
`spark-kafka-source`, which no grant names.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from offline.plan import Plan
from tests.plan_queries import job_params, only

BINDING = "confluentcloud:index/roleBinding:RoleBinding"
CLUSTER = "confluentcloud:index/kafkaCluster:KafkaCluster"
SA = "confluentcloud:index/serviceAccount:ServiceAccount"
SPARK_DEFAULT_PREFIX = "spark-kafka-source"


def spark_group_ids(prefix: str, checkpoint: str = "abfss://checkpoints@st/bronze_trades") -> list[str]:
    """The group ids a Spark query with `groupIdPrefix=prefix` uses (see the module docstring)."""
    unique = f"{prefix}-{uuid.uuid4()}-{hash(checkpoint)}"
    return [unique, f"{unique}-executor", f"{unique}-driver-0"]


def crn_pattern_matches(pattern: str, crn: str) -> bool:
    """Confluent RBAC: a pattern ending in `*` is a prefix binding, otherwise a literal one."""
    return crn.startswith(pattern[:-1]) if pattern.endswith("*") else crn == pattern


def bronze_flags(plan: Plan) -> dict[str, Any]:
    jobs = [j for j in plan.of_type("databricks:index/job:Job") if "bronze" in j.name]
    assert len(jobs) == 1, [j.name for j in plan.of_type("databricks:index/job:Job")]
    params = job_params(jobs[0])
    assert "--kafka-group-id-prefix" in params, "the bronze job gets no --kafka-group-id-prefix"
    return params


def test_crn_pattern_matching_is_prefix_or_literal() -> None:
    assert crn_pattern_matches("crn://x/group=bronze-ingest*", "crn://x/group=bronze-ingest-1-2")
    assert not crn_pattern_matches("crn://x/group=bronze-ingest*", "crn://x/group=spark-kafka-source-1")
    assert not crn_pattern_matches("crn://x/group=bronze-ingest", "crn://x/group=bronze-ingest-1")


def test_confluent_group_binding_matches_every_group_id_the_job_uses(confluent_plan: Plan) -> None:
    cluster = only(confluent_plan, CLUSTER)
    processor = next(a for a in confluent_plan.of_type(SA) if a.name.endswith("-processor"))
    patterns = [
        rb.inputs["crnPattern"]
        for rb in confluent_plan.of_type(BINDING)
        if rb.inputs["principal"] == f"User:{processor.id}" and "/group=" in rb.inputs["crnPattern"]
    ]
    assert len(patterns) == 1, patterns
    prefix = bronze_flags(confluent_plan)["--kafka-group-id-prefix"]
    group_crn = f"{cluster.outputs['rbacCrn']}/kafka={cluster.id}/group="
    for group_id in spark_group_ids(prefix):
        assert crn_pattern_matches(patterns[0], group_crn + group_id), (patterns[0], group_id)
    # What Spark would use with no prefix set is not granted (the defect this guards against).
    for group_id in spark_group_ids(SPARK_DEFAULT_PREFIX):
        assert not crn_pattern_matches(patterns[0], group_crn + group_id)


def test_confluent_job_prefix_comes_from_the_stack_config(confluent_plan: Plan) -> None:
    from offline.engine import stack_config_values

    values, _ = stack_config_values("confluent")
    configured = json.loads(values["rta-platform:confluent"])["processorConsumerGroupPrefix"]
    assert bronze_flags(confluent_plan)["--kafka-group-id-prefix"] == configured


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_event_hubs_job_consumes_under_a_named_kafka_group(stack: str, dev_plan: Plan, prod_plan: Plan) -> None:
    plan = {"dev": dev_plan, "prod": prod_plan}[stack]
    prefix = bronze_flags(plan)["--kafka-group-id-prefix"]
    assert prefix and not prefix.startswith(SPARK_DEFAULT_PREFIX) and prefix != "$Default"


def test_event_hubs_job_prefix_comes_from_the_stack_config(prod_plan: Plan) -> None:
    """prod names its own prefix (eventHubs.kafkaConsumerGroupPrefix), unlike the component's default."""
    from components.ingestion import KafkaSource
    from offline.engine import stack_config_values

    values, _ = stack_config_values("prod")
    configured = json.loads(values["rta-platform:eventHubs"])["kafkaConsumerGroupPrefix"]
    assert configured != KafkaSource.__dataclass_fields__["consumer_group_prefix"].default
    assert bronze_flags(prod_plan)["--kafka-group-id-prefix"] == configured
