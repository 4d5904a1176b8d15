"""Analysis: turning a field value into terms (Lucene's Tokenizer + TokenFilter chain).

Two analyzers, chosen by the kind of a value (see :mod:`.document`):

- :data:`STANDARD`: a Unicode-aware tokenizer in the spirit of Lucene's StandardTokenizer
  (UAX #29 word boundaries, simplified): runs of letters, digits and underscores form a token;
  each Han ideograph, Hiragana or Katakana character is a token of its own; an emoji (with its
  modifiers and ZWJ sequence) is a token; everything else separates tokens. Then a lowercase
  filter. Tokens longer than :data:`MAX_TOKEN_LENGTH` characters are dropped.
- :data:`KEYWORD`: the whole value is one token, lowercased.

Positions count tokens from 0 within a value; offsets are character offsets into the value
(what the highlighter marks up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "KEYWORD",
    "MAX_TOKEN_LENGTH",
    "STANDARD",
    "Analyzer",
    "KeywordAnalyzer",
    "StandardAnalyzer",
    "Token",
]

MAX_TOKEN_LENGTH = 255
"""Longer tokens are not indexed (Lucene's default maximum token length)."""

_CJK = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002fa1f"  # CJK extensions B..F, compatibility supplement
)
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
_TOKEN = re.compile(
    rf"[{_CJK}]"
    rf"|[{_EMOJI}](?:\ufe0f|[\U0001f3fb-\U0001f3ff]|\u200d[{_EMOJI}])*"
    rf"|[^\W{_CJK}]+"
)


@dataclass(frozen=True, slots=True)
class Token:
    """One term occurrence in a value."""

    term: str
    """The term, after filtering (lowercased)."""
    position: int
    """Index of the token among the value's tokens, from 0."""
    start: int
    """Offset of the token's first character in the value."""
    end: int
    """Offset just past the token's last character."""


class Analyzer(Protocol):
    """Turns a value into terms; ``normalize`` applies only the filters (for query terms that
    are not tokenized: prefixes, wildcards, fuzzy and range bounds)."""

    def terms(self, text: str) -> list[str]:
        """The value's terms in order (the indexing fast path)."""
        ...

    def tokens(self, text: str) -> list[Token]:
        """The value's tokens with positions and offsets."""
        ...

    def normalize(self, text: str) -> str:
        """The filters alone, applied to a query term."""
        ...


class StandardAnalyzer:
    """Unicode word tokenizer + lowercase filter."""

    def terms(self, text: str) -> list[str]:
        return [t.lower() for t in _TOKEN.findall(text) if len(t) <= MAX_TOKEN_LENGTH]

    def tokens(self, text: str) -> list[Token]:
        out: list[Token] = []
        for match in _TOKEN.finditer(text):
            word = match.group()
            if len(word) <= MAX_TOKEN_LENGTH:
                out.append(Token(word.lower(), len(out), match.start(), match.end()))
        return out

    def normalize(self, text: str) -> str:
        return text.lower()


class KeywordAnalyzer:
    """The whole value is one lowercased term."""

    def terms(self, text: str) -> list[str]:
        return [text.lower()]

    def tokens(self, text: str) -> list[Token]:
        return [Token(text.lower(), 0, 0, len(text))]

    def normalize(self, text: str) -> str:
        return text.lower()


STANDARD = StandardAnalyzer()
"""The analyzer of text values."""
KEYWORD = KeywordAnalyzer()
"""The analyzer of keyword values."""
