"""Run the streaming pipeline on local Spark with a live view: a thin alias of `python -m streaming_jobs.local_run`.

Usage: `.venv/bin/python tools/run_local_pipeline.py --seconds 30` (same options).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streaming_jobs.local_run import main

if __name__ == "__main__":
    sys.exit(main())
