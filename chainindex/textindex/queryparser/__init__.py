"""The query-string parser (Lucene's syntax): :class:`QueryParser`.

- :mod:`.lexer`: the tokens of a query string (:class:`~.lexer.QueryToken`);
- :mod:`.build`: field kinds, numbers and combining clauses;
- :mod:`.parser`: the recursive-descent parser.
"""

from chainindex.textindex.queryparser.build import FieldKind, parse_int
from chainindex.textindex.queryparser.parser import QueryParser

__all__ = ["FieldKind", "QueryParser", "parse_int"]
