"""rta-platform stack program: validated config in, one Platform out, its outputs exported.

Config is read and validated first, so a broken stack file stops the run
before a single resource is registered. What the platform is made of, layer by
layer, is in `layers/` (README: Architecture).
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from layers.ingestion import confluent_credentials
from layers.platform import Platform, PlatformArgs
from stack_config import load_stack_config


def main() -> None:
    config = load_stack_config()
    args = PlatformArgs(
        config=config,
        # The jobs deployed are the ones beside this program.
        source_root=str(Path(__file__).resolve().parent),
        confluent_credentials=confluent_credentials(config),
    )
    platform = Platform("platform", args)
    for name, value in platform.outputs.items():
        pulumi.export(name, value)


main()
