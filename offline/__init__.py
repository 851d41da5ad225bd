"""Run the stack program in-process under the Pulumi mock engine (no CLI, no cloud)."""
