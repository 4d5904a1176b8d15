"""The query-string parser (Lucene's syntax): :class:`QueryParser`."""

from chainindex.textindex.queryparser.build import FieldKind, parse_int
from chainindex.textindex.queryparser.parser import QueryParser

__all__ = ["FieldKind", "QueryParser", "parse_int"]
