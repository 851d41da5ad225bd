"""Explicit Spark schemas of the event payload and of the bronze, silver and quarantine tables.

The payload schema is never inferred: a producer that adds a field cannot
change what silver reads, and a field of the wrong type is caught by name.
"""

from __future__ import annotations

from pyspark.sql import types as T  # noqa: N812 (PySpark convention)

CORRUPT = "_corrupt_record"

# The trade event as producers send it (JSON, one object per message / line).
# event_time: ISO-8601 with zone, e.g. "2026-11-23T09:30:00.125Z". Prices are rounded half-up to 4 decimals.
EVENT_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType()),
        T.StructField("symbol", T.StringType()),
        T.StructField("side", T.StringType()),  # transaction type: BUY / SELL
        T.StructField("price", T.DecimalType(18, 4)),
        T.StructField("quantity", T.LongType()),
        T.StructField("event_time", T.TimestampType()),
        T.StructField("producer_id", T.StringType()),
        T.StructField("producer_seq", T.LongType()),
        T.StructField("schema_version", T.IntegerType()),
    ]
)
EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in EVENT_SCHEMA.fields)

# The parse of every payload: typed fields; a record that does not fit keeps its readable fields and
# is marked in _corrupt_record. `event_time` is read as text and typed by transforms/parse.event_time_of
# (strict ISO-8601 with a zone): Spark's JSON timestamp reader also takes epoch numbers and zone-less text.
PARSE_SCHEMA = T.StructType(
    [T.StructField(f.name, T.StringType() if f.name == "event_time" else f.dataType) for f in EVENT_SCHEMA.fields]
    + [T.StructField(CORRUPT, T.StringType())]
)

# The same fields as JSON text: parsed only for rejected records, to tell a missing field from a
# wrongly typed one.
TEXT_SCHEMA = T.StructType(
    [T.StructField(f.name, T.StringType()) for f in EVENT_SCHEMA.fields] + [T.StructField(CORRUPT, T.StringType())]
)

# Bronze: the payload untouched plus where and when it came from. Kafka columns are null for files.
BRONZE_SCHEMA = T.StructType(
    [
        T.StructField("payload", T.StringType()),
        T.StructField("kafka_key", T.StringType()),
        T.StructField("topic", T.StringType()),
        T.StructField("partition", T.IntegerType()),
        T.StructField("offset", T.LongType()),
        T.StructField("kafka_timestamp", T.TimestampType()),
        T.StructField("source_file", T.StringType()),
        T.StructField("ingest_time", T.TimestampType()),
    ]
)

_LINEAGE = [
    T.StructField("topic", T.StringType()),
    T.StructField("partition", T.IntegerType()),
    T.StructField("offset", T.LongType()),
    T.StructField("source_file", T.StringType()),
    T.StructField("ingest_time", T.TimestampType()),
]

SILVER_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType(), False),
        T.StructField("symbol", T.StringType(), False),
        T.StructField("side", T.StringType(), False),
        T.StructField("price", T.DecimalType(18, 4), False),
        T.StructField("quantity", T.LongType(), False),
        T.StructField("event_time", T.TimestampType(), False),
        T.StructField("producer_id", T.StringType()),
        T.StructField("producer_seq", T.LongType()),
        *_LINEAGE,
    ]
)

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("reason", T.StringType(), False),  # the first failed check, e.g. MISSING_FIELD:price
        T.StructField("reasons", T.ArrayType(T.StringType(), False), False),  # every failed check
        T.StructField("payload", T.StringType()),
        T.StructField("event_id", T.StringType()),
        T.StructField("event_time", T.TimestampType()),
        *_LINEAGE,
    ]
)
