"""Highlighting: the best fragments of a text, with the terms that matched marked up.

After Lucene's ``Highlighter`` (with ``QueryScorer``): the text is analyzed again with offsets, each
token the query matches (exact terms, and prefix/wildcard/regexp/fuzzy/range predicates) is
wrapped in ``pre``/``post`` tags, the text is cut into fragments of about
``fragment_size`` characters at token boundaries (SimpleFragmenter), each fragment is scored
by the number of distinct matched terms it holds (then by matches), and the best
``max_fragments`` are returned, best first. Text between tags is HTML-escaped unless
``escape_html`` is false (tags are markup, so the text must be too).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chainindex.textindex.analysis import STANDARD, Analyzer

__all__ = ["HighlightOptions", "best_fragments"]


@dataclass(frozen=True, slots=True)
class HighlightOptions:
    """How to mark up fragments."""

    pre: str = "<em>"
    post: str = "</em>"
    fragment_size: int = 100
    """Characters per fragment (a fragment ends at the first token boundary past it)."""
    max_fragments: int = 3
    escape_html: bool = True


def best_fragments(
    text: str,
    matchers: Sequence[Callable[[str], bool]],
    options: HighlightOptions = HighlightOptions(),
    analyzer: Analyzer = STANDARD,
) -> list[str]:
    """The best fragments of ``text`` with matched tokens marked; ``[]`` if none match."""
    if not matchers:
        return []
    tokens = analyzer.tokens(text)
    matched = [any(m(t.term) for m in matchers) for t in tokens]
    if not any(matched):
        return []
    encode = html.escape if options.escape_html else (lambda s: s)
    # Cut into fragments at token starts, every fragment_size characters.
    bounds: list[int] = [0]
    for token in tokens:
        if token.start - bounds[-1] >= options.fragment_size:
            bounds.append(token.start)
    bounds.append(len(text))
    fragments = []
    k = 0
    for f in range(len(bounds) - 1):
        start, end = bounds[f], bounds[f + 1]
        parts = []
        cursor = start
        distinct: set[str] = set()
        count = 0
        while k < len(tokens) and tokens[k].start < end:
            token = tokens[k]
            if matched[k]:
                parts.append(encode(text[cursor : token.start]))
                parts.append(options.pre + encode(text[token.start : token.end]) + options.post)
                cursor = token.end
                distinct.add(token.term)
                count += 1
            k += 1
        parts.append(encode(text[cursor:end]))
        if count:
            fragments.append((len(distinct), count, -f, "".join(parts).strip()))
    fragments.sort(reverse=True)
    return [frag for *_, frag in fragments[: options.max_fragments]]
