"""The query-string parser (Lucene's syntax): :class:`QueryParser`."""

from chainindex.textindex.queryparser.parser import FieldKind, QueryParser, parse_int

__all__ = ["FieldKind", "QueryParser", "parse_int"]
