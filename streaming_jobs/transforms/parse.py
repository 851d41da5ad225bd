"""Parse the payload with the explicit event schema: once per record on the accepted path, strictly.

Spark's JSON reader (`from_json`, Jackson underneath) is lenient in ways that change what an event says,
and silver must not inherit that (issue 32). Behaviours of Spark 4.0.0 this module relies on, read in its
source (`sql/catalyst/.../json/JacksonParser.scala`, `ExprUtils.getDecimalParser`) and checked by
tests/streaming/test_transforms.py (test_strict_parse and the tests after it):

* `JacksonParser.parse` reads the first JSON value of a record and ignores whatever follows it, so
  `{...}{...}` and `{...} trailing text` parse as their first object;
* a quoted number read into a DECIMAL goes through `new BigDecimal(text.replaceAll(",", ""))` in the
  default locale, so `"12,5"` reads as 125, and `"+12.5"` or non-ASCII digits are accepted;
* a STRING field takes any token (a number `123` reads as the text "123"), a TIMESTAMP field takes an
  epoch number and zone-less text (read in the session zone), a repeated key keeps its last value;
* bytes that are not UTF-8 become U+FFFD when Jackson decodes the record.

So the verdict is: the typed parse, plus `strict_failures` (one object, exact token types, a strict grammar
for quoted numbers, valid UTF-8). The common shape of an event (one flat object, no escapes, the price a
literal number, string fields that cannot be another token's rendering) is recognised with a few byte
scans (`fast_path`); every other record is checked exactly (`strict_checks`): escapes and strings
stripped, nesting folded, and the known fields read a second time as variants, whose type is the token's.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)
from pyspark.sql import types as T  # noqa: N812

from streaming_jobs.schemas import CORRUPT, PARSE_SCHEMA, TEXT_SCHEMA

# allowNonNumericNumbers is on by default in Spark's JSON options: NaN and Infinity are not JSON.
_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT, "allowNonNumericNumbers": "false"}

# Fields the producer sends as JSON strings. A non-string token read into a STRING field comes out as its
# JSON rendering: a number, true/false, an object or array, or a quoted word ("Infinity" for 1e400).
STRING_FIELDS: tuple[str, ...] = ("event_id", "symbol", "side", "producer_id")

# The JSON number grammar (RFC 8259 section 6), nothing else. No sign '+', no leading zeros, no grouping,
# no spaces, ASCII digits only.
_JSON_NUMBER = r"-?(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?"
# A number given as a string.
NUMBER_TEXT = f"^{_JSON_NUMBER}$"
_NOT_A_STRING_TOKEN = f"^(?:{_JSON_NUMBER}$|true$|false$|" + r'[{\["])'

# event_time: ISO-8601 / RFC 3339 date-time with a zone, 'T' and 'Z' upper-case, offset with a colon;
# fractions of a second beyond microseconds are truncated (Spark's TIMESTAMP resolution).
EVENT_TIME_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})$"

# Nesting the exact shape check folds; an object nested deeper than this is MALFORMED_JSON.
MAX_NESTING = 32

# The known fields, read as variants (their JSON type kept), for the records off the fast path.
_VARIANT_SCHEMA = T.StructType([T.StructField(n, T.VariantType()) for n in (*STRING_FIELDS, "price")])


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


def valid_utf8(payload: Column) -> Column:
    """False when the payload's bytes are not UTF-8 (Kafka values are cast from binary unchecked) or it is
    null; never null."""
    return F.coalesce(F.is_valid_utf8(payload), F.lit(False))


def event_time_of(text: Column) -> Column:
    """The event time from its JSON text, or null unless it is ISO-8601 with a zone (try_cast: an
    impossible date such as 02-30 is null too, under ANSI mode as well)."""
    return F.when(text.rlike(EVENT_TIME_TEXT), text.try_cast("timestamp"))


def fast_path(payload: Column, evt: Column) -> Column:
    """True when cheap byte scans prove what the exact checks would find: the payload's only '}' is its
    last character (so it is one flat object with nothing after it, given the parse read an object),
    it has no backslash (so every '"' delimits a string and keys are literal), `"price"` occurs once and
    is followed directly by ':' and then not by whitespace or a quote (so it is the one price key, and
    its value a non-string token; a non-number one fails the typed parse), and no string field reads like the
    rendering of a non-string token. A record for which it is false is not rejected, only checked by
    strict_checks instead.
    """
    # Only byte scans (UTF8String.contains, startsWith/endsWith): the position functions (instr, locate,
    # substring) walk the text character by character and cost several times more per record.
    # `"price"` once: the text before its first and after its last occurrence make up the rest of the
    # payload (substring_index returns the whole text when it does not occur). Two scans in all, instead
    # of one per rejected spelling; what follows the key is then read with startsWith only.
    before = F.substring_index(payload, _PRICE_KEY, 1)
    after = F.substring_index(payload, _PRICE_KEY, -1)
    once = F.octet_length(before) + F.octet_length(after) + len(_PRICE_KEY) == F.octet_length(payload)
    price_literal = once & F.startswith(after, F.lit(":"))
    for start in _PRICE_NOT_FAST:
        price_literal = price_literal & ~F.startswith(after, F.lit(start))
    # The first '}' is the last byte: one flat object and nothing after it.
    first_close = F.octet_length(F.substring_index(payload, "}", 1))
    one_flat = F.endswith(payload, F.lit("}")) & (first_close == F.octet_length(payload) - 1)
    ok = one_flat & ~F.contains(payload, F.lit("\\")) & price_literal
    for n in STRING_FIELDS:
        ok = ok & _plain_string(evt[n])
    return F.coalesce(ok, F.lit(False))


_PRICE_KEY = '"price"'
# The price key's ':' followed by whitespace or a quote: the exact checks decide.
_PRICE_NOT_FAST = tuple(f":{c}" for c in ' \t\r\n"')

# First characters of the JSON rendering of a non-string token (number, true, false, object, array, quoted).
_TOKEN_STARTS = tuple('0123456789-tf{["')


def _plain_string(value: Column) -> Column:
    """True unless the value could be another token's rendering (_NOT_A_STRING_TOKEN). The pattern runs only
    for values starting with one of _TOKEN_STARTS (a CASE: symbols, sides, producer ids start with a letter),
    since each rlike decodes the value into a Java string first."""
    first = F.substring(value, 1, 1)
    suspicious = F.when(first.isin(*_TOKEN_STARTS), value.rlike(_NOT_A_STRING_TOKEN)).otherwise(F.lit(False))
    return ~F.coalesce(suspicious, F.lit(False))


def one_object(payload: Column) -> Column:
    """Exactly one JSON value (the parse says which kind) and only whitespace after it.

    Escapes, then strings, are replaced by one character each; then the innermost brackets fold into
    one character, MAX_NESTING times. A single value folds to one character; a second value or trailing
    text leaves more. Every step is a regex replace with a possessive single-class loop, so the cost is
    linear and the regex engine's recursion does not grow with the payload.
    """
    no_escapes = F.regexp_replace(payload, r"(?s)\\.", "e")
    no_strings = F.regexp_replace(no_escapes, r'"[^"]*+"', "s")
    folded = F.aggregate(
        F.sequence(F.lit(1), F.lit(MAX_NESTING)),
        no_strings,
        lambda acc, _: F.regexp_replace(acc, r"[{\[][^{}\[\]]*+[}\]]", "#"),
    )
    return folded.rlike(r"^[ \t\r\n]*+#[ \t\r\n]*+$")


def strict_checks(payload: Column) -> tuple[Column, dict[str, Column]]:
    """(one object, {field: its token has the field's type}) by exact checks on the payload; the field
    checks are never null.

    A field is right when absent or null (MISSING_FIELD reports a required one), a string for the
    string fields, and for `price` a number, or a string that is NUMBER_TEXT.
    """
    v = F.from_json(payload, _VARIANT_SCHEMA, _OPTIONS)
    fields: dict[str, Column] = {}
    for n in STRING_FIELDS:
        t = F.schema_of_variant(v[n])
        fields[n] = t.isNull() | t.isin("STRING", "VOID")
    price_t = F.schema_of_variant(v["price"])
    fields["price"] = price_t.isNull() | (price_t != "STRING") | v["price"].cast("string").rlike(NUMBER_TEXT)
    return one_object(payload), fields


def strictly_readable(payload: Column, evt: Column) -> Column:
    """Valid UTF-8, and the fast path holds or every exact check passes (never null).

    A CASE, not an OR: Spark's subexpression elimination hoists an expression used twice out of AND/OR
    and evaluates it for every row (spark.sql.subexpressionElimination.skipForShortcutExpr is off by
    default), but only looks into a CASE's first condition (EquivalentExpressions.childrenToRecurse), so
    the exact checks run for the records off the fast path alone.
    """
    shape, fields = strict_checks(payload)
    exact = shape
    for ok in fields.values():
        exact = exact & ok
    strict = F.when(fast_path(payload, evt), F.lit(True)).otherwise(F.coalesce(exact, F.lit(False)))
    return valid_utf8(payload) & strict
