"""Pure DataFrame -> DataFrame transformations, shared by the Databricks jobs and local runs.

None of these functions reads or writes anything: sources and sinks live in
streaming_jobs.io, so each step can be tested on a static DataFrame and run
unchanged on a stream.
"""
