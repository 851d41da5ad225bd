"""Typed, validated stack configuration for rta-platform."""

from stack_config.loader import ConfigError, load_stack_config, parse_stack_config
from stack_config.model import Environment, IngestionProvider, StackConfig

__all__ = [
    "ConfigError",
    "Environment",
    "IngestionProvider",
    "StackConfig",
    "load_stack_config",
    "parse_stack_config",
]
