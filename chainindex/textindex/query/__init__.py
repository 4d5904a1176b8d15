"""The query types, one module per family (see :mod:`.base` for the pipeline)."""

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
