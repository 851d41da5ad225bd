"""Databricks spark_python_task entry: `python streaming_jobs/entrypoints/delta_maintenance.py --param value ...`.

Parameters: streaming_jobs/manifest.py MAINTENANCE_JOB. Only makes the repository root importable and
hands over to streaming_jobs.jobs.maintenance.
"""

import os
import sys

# Workspace files run as a script: __file__ may be missing in some runtimes, sys.argv[0] never is.
_HERE = os.path.abspath(globals().get("__file__") or sys.argv[0])
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from streaming_jobs.jobs.common import entry  # noqa: E402
from streaming_jobs.jobs.maintenance import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(entry(main))
