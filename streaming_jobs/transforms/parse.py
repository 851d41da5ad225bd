"""Parse the payload once, with the explicit event schema."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.schemas import CORRUPT, PARSE_SCHEMA, RAW_SCHEMA

_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}


def parse_events(bronze: DataFrame) -> DataFrame:
    """Adds `evt`: the typed event. A record that does not fit keeps its readable fields and is marked
    in evt._corrupt_record (the validator turns that into a reason).

    The parse sits in a one-element explode on purpose: a generator is an optimizer barrier, so the
    payload is parsed once per record. As a plain column, the optimizer would inline from_json into
    every filter and projection that reads a field of `evt`, parsing each record several times.
    """
    return bronze.withColumn("evt", F.explode(F.array(F.from_json(F.col("payload"), PARSE_SCHEMA, _OPTIONS))))


def with_raw_fields(parsed: DataFrame) -> DataFrame:
    """Adds `raw`: every field as text. Only rejected records get this second parse, so it costs nothing
    on the valid path; comparing `raw` with `evt` tells a missing field from a wrongly typed one.
    The same one-element explode keeps it to one parse per record."""
    return parsed.withColumn("raw", F.explode(F.array(F.from_json(F.col("payload"), RAW_SCHEMA, _OPTIONS))))
