"""The whole platform as one component: the layers, composed in the order their dependencies need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.base import TYPE_PREFIX
from components.confluent_ingestion import ConfluentCredentials
from layers.foundation import build_foundation
from layers.hot_path import build_hot_path
from layers.ingestion import build_ingestion
from layers.operations import build_operations
from layers.placement import Placement
from layers.processing import build_processing, build_storage, build_workspace
from layers.producers import build_producers
from layers.serving import build_dashboards, build_database
from stack_config import StackConfig, capacity_model


@dataclass(frozen=True)
class PlatformArgs:
    """Plain typed data, no callables, so the component could be served to other languages by a
    component-provider host: the validated stack config, and the Confluent credentials as secret inputs.

    `source_root` is the directory holding `streaming_jobs/` (the program's own), whose jobs are deployed.
    `prefix` names a second platform in the same program apart from the first (see `Placement`).
    """

    config: StackConfig
    source_root: str
    confluent_credentials: ConfluentCredentials | None = None
    prefix: str = ""


class Platform(pulumi.ComponentResource):
    """Foundation, storage, serving database, ingestion, producers, hot path, processing, dashboards,
    operations: one stack's platform.

    `outputs` holds the stack outputs by name; the stack program exports them unchanged.
    """

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}Platform", name, None, opts)
        config, place = args.config, Placement(parent=self, prefix=args.prefix)
        foundation = build_foundation(config, place)
        # The workspace first: the lake's firewall names its access connector (resource instance rule).
        workspace = build_workspace(config, place, foundation)
        storage = build_storage(config, place, foundation, workspace)
        # The database before the jobs, which write into it; capture (ingestion) into the lake before both.
        database = build_database(config, place, foundation)
        ingestion = build_ingestion(config, place, foundation, storage, args.confluent_credentials)
        # Where the data flows: the producers send into the stream ingestion built.
        producers = build_producers(config, place, foundation, ingestion, args.source_root)
        # The hot path reads the same stream on its own consumer group.
        hot_path = build_hot_path(config, place, foundation, ingestion)
        self.outputs: dict[str, Any] = {
            **foundation.outputs,
            **storage.outputs,
            **database.outputs,
            **ingestion.outputs,
            **producers.outputs,
            **hot_path.outputs,
        }
        if workspace is not None:
            if ingestion.source is None:
                raise ValueError("databricks needs an ingestion source (eventHubs or confluent)")
            processing = build_processing(
                config, place, foundation, workspace, storage, ingestion.source, database.sql, Path(args.source_root)
            )
            dashboards = build_dashboards(config, place, foundation, processing)
            self.outputs.update({**processing.outputs, **dashboards.outputs})
        # Last: it watches what the layers above built.
        operations = build_operations(config, place, foundation, storage, database, ingestion)
        self.outputs.update(operations.outputs)
        # The load the stack is sized for, as the capacity model judged it (`pulumi stack output capacity`).
        capacity = capacity_model.report(config)
        if capacity is not None:
            self.outputs["capacity"] = capacity_model.summary(capacity)
        self.register_outputs(self.outputs)
