"""The three streaming jobs: argument parsing, wiring of edges to transforms, query start-up."""
