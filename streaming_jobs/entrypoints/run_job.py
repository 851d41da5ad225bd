"""Databricks spark_python_task entry of every job: `python streaming_jobs/entrypoints/run_job.py <job> --param ...`.

The jobs and their parameters: streaming_jobs/manifest.py (ALL_JOBS). Only makes the repository root
importable and hands over to streaming_jobs.jobs.common.run, which dispatches on the job key.
"""

import os
import sys

# Workspace files run as a script: __file__ may be missing in some runtimes, sys.argv[0] never is.
_HERE = os.path.abspath(globals().get("__file__") or sys.argv[0])
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from streaming_jobs.jobs.common import run  # noqa: E402

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
