"""The query types, one module per family (see :mod:`.base` for the pipeline).

- :mod:`.base`: ``Query``, ``Weight``, ``Scorer``, ``Matches`` and the constant scorers;
- :mod:`.syntax`: escaping terms for ``Query.to_string``;
- :mod:`.term`: ``TermQuery``;
- :mod:`.boolean`: ``BooleanQuery``, ``BooleanClause``, ``Occur``;
- :mod:`.matchall`: ``MatchAllDocsQuery``, ``MatchNoDocsQuery``, ``ExistsQuery``,
  ``ConstantScoreQuery``, ``BoostQuery``;
- :mod:`.phrase`: ``PhraseQuery``;
- :mod:`.multiterm`: ``MultiTermQuery`` (the expanding queries' base), ``TermInSetQuery``;
- :mod:`.prefix`, :mod:`.wildcard`, :mod:`.regexp`, :mod:`.termrange`: the expanding queries;
- :mod:`.pointrange`: ``PointRangeQuery``;
- :mod:`.levenshtein`: Levenshtein automata (Lucene's ``LevenshteinAutomata``);
- :mod:`.fuzzy`: ``FuzzyQuery``.
"""

from chainindex.textindex.query.base import Matches, Query, Scorer, Weight
from chainindex.textindex.query.boolean import BooleanClause, BooleanQuery, Occur
from chainindex.textindex.query.fuzzy import FuzzyQuery
from chainindex.textindex.query.matchall import (
    BoostQuery,
    ConstantScoreQuery,
    ExistsQuery,
    MatchAllDocsQuery,
    MatchNoDocsQuery,
)
from chainindex.textindex.query.multiterm import MultiTermQuery, TermInSetQuery
from chainindex.textindex.query.phrase import PhraseQuery
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.query.prefix import PrefixQuery
from chainindex.textindex.query.regexp import RegexpQuery
from chainindex.textindex.query.term import TermQuery
from chainindex.textindex.query.termrange import TermRangeQuery
from chainindex.textindex.query.wildcard import WildcardQuery

__all__ = [
    "BooleanClause",
    "BooleanQuery",
    "BoostQuery",
    "ConstantScoreQuery",
    "ExistsQuery",
    "FuzzyQuery",
    "MatchAllDocsQuery",
    "MatchNoDocsQuery",
    "Matches",
    "MultiTermQuery",
    "Occur",
    "PhraseQuery",
    "PointRangeQuery",
    "PrefixQuery",
    "Query",
    "RegexpQuery",
    "Scorer",
    "TermInSetQuery",
    "TermQuery",
    "TermRangeQuery",
    "Weight",
    "WildcardQuery",
]
