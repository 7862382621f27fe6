"""Caches of parsed and validated GraphQL documents, shared by all requests.

Clients send the same few documents over and over. Parsing and validating the
document of a 50-member page took about 2.5 ms of the 9 to 10 ms of CPU of each
request without these caches (bench/graphql_bench.py on a 2-core machine).

Strawberry's ParserCache keys on the query text and the parse options (the token
cap). Its ValidationCache keys on the schema, the document and the tuple of
validation rule classes, so the limits of `RequestLimits` take part in the key: the
same classes for the same settings, other classes for other settings. No rule
depends on the caller, so a cached result is the result any caller would get.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import ParserCache, ValidationCache

# Documents kept in each cache; the least recently used one is dropped beyond this.
MAX_CACHED_DOCUMENTS = 256
# Longer query texts are parsed and validated on every request, so that the caches
# contain at most about MAX_CACHED_DOCUMENTS * MAX_CACHED_QUERY_CHARS characters of
# source text (each parsed document keeps its source).
MAX_CACHED_QUERY_CHARS = 16_384


def _is_cacheable(query: str | None) -> bool:
    return query is not None and len(query) <= MAX_CACHED_QUERY_CHARS


class DocumentParserCache(ParserCache):
    """Strawberry's parser cache, bounded in entries and in query length."""

    def __init__(self) -> None:
        super().__init__(maxsize=MAX_CACHED_DOCUMENTS)

    def on_parse(self) -> Iterator[None]:
        if not _is_cacheable(self.execution_context.query):
            yield
            return
        yield from super().on_parse()


class DocumentValidationCache(ValidationCache):
    """Strawberry's validation cache, bounded in entries and in query length."""

    def __init__(self) -> None:
        super().__init__(maxsize=MAX_CACHED_DOCUMENTS)

    def on_validate(self) -> Iterator[None]:
        if not _is_cacheable(self.execution_context.query):
            yield
            return
        yield from super().on_validate()
