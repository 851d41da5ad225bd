"""Parse the payload with the explicit event schema: once per record on the accepted path."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.schemas import CORRUPT, PARSE_SCHEMA, TEXT_SCHEMA

_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}


def parse_events(bronze: DataFrame) -> DataFrame:
    """Adds `evt`: the typed event. A record that does not fit keeps its readable fields and is marked
    in evt._corrupt_record.

    The optimizer keeps this one parse per record as long as `evt` is read through projections only:
    a filter on an `evt` field would be pushed below the projection with from_json inlined into it.
    Silver filters nothing before its stateful operator; the tests check its plan holds one from_json.
    """
    return bronze.withColumn("evt", F.from_json(F.col("payload"), PARSE_SCHEMA, _OPTIONS))


def with_text_fields(rejected: DataFrame) -> DataFrame:
    """Adds `raw`: every field as JSON text, for diagnosing rejected records (a few per cent).

    The parse sits in a one-element explode on purpose: a generator is an optimizer barrier, so the
    payload is parsed once per record, not once per field the diagnosis reads.
    """
    return rejected.withColumn("raw", F.explode(F.array(F.from_json(F.col("payload"), TEXT_SCHEMA, _OPTIONS))))
