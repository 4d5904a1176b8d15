"""Range splitting for ``get_logs`` and ``iter_logs``, without I/O.

A :class:`RangePager` walks the blocks ``first..last`` in consecutive pages. The caller asks
:meth:`~RangePager.page` for the next ``(from, to)``, queries it, and reports back:

- :meth:`~RangePager.succeeded` with the number of logs the page returned: the pager moves on
  and adapts the next page's span (towards ``target_logs`` when one is set, by doubling after
  two successes in a row otherwise, never past a block-range limit it has learned);
- :meth:`~RangePager.too_large` when the server answered with a limit error: the same start
  with a narrower end — the server's suggested end when it is a real narrowing, half the span
  otherwise. It returns False when the page is a single block: nothing narrower exists, and
  the caller raises.

Every call to :meth:`~RangePager.too_large` strictly shrinks the page, and every success moves
the start past the page, so the walk ends: at most ``log2(span)`` refusals per page.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RangePager"]

_MAX_GROWTH = 2
"""Most a span grows from one page to the next."""


@dataclass(slots=True)
class RangePager:
    """The state of one walk through ``first..last`` (inclusive)."""

    first: int
    """First block of the walk."""
    last: int
    """Last block of the walk."""
    span: int | None = None
    """Blocks in the next page (None: the whole rest of the range)."""
    target_logs: int | None = None
    """Logs a page should hold, roughly (None: as many as the server allows)."""
    max_span: int | None = None
    """Largest span known to fit a block-range limit."""
    position: int = -1
    """First block of the next page (``first`` until a page succeeds)."""
    _successes: int = 0

    def __post_init__(self) -> None:
        if self.first < 0 or self.last < self.first - 1:
            raise ValueError(f"bad block range {self.first}..{self.last}")
        if self.span is not None and self.span < 1:
            raise ValueError(f"a page spans at least one block, got {self.span}")
        if self.position < 0:
            self.position = self.first

    @property
    def done(self) -> bool:
        """True once every block of the range has been covered."""
        return self.position > self.last

    def page(self) -> tuple[int, int]:
        """The next page's ``(from, to)``."""
        if self.done:
            raise ValueError("the range is exhausted")
        span = self.span if self.span is not None else self.last - self.position + 1
        if self.max_span is not None:
            span = min(span, self.max_span)
        return self.position, min(self.last, self.position + span - 1)

    def succeeded(self, count: int) -> None:
        """The current page returned ``count`` logs: move past it and adapt the span."""
        start, end = self.page()
        span = end - start + 1
        self.position = end + 1
        self._successes += 1
        if self.span is None:
            return
        if self.target_logs is not None:
            wanted = span * self.target_logs // max(count, 1)
            self.span = max(1, min(wanted, span * _MAX_GROWTH))
        elif self._successes >= 2:
            self.span = span * _MAX_GROWTH
            self._successes = 0
        if self.max_span is not None:
            self.span = min(self.span, self.max_span)

    def too_large(
        self, suggested_to: int | None = None, *, block_range_limit: int | None = None
    ) -> bool:
        """The current page was refused for its size: narrow it. ``suggested_to`` is the
        server's suggested last block; ``block_range_limit`` the most blocks a query may span,
        when the server said so. False when the page is a single block (nothing narrower)."""
        start, end = self.page()
        if end == start:
            return False
        if block_range_limit is not None and block_range_limit >= 1:
            self.max_span = min(block_range_limit, self.max_span or block_range_limit)
        if suggested_to is not None and start <= suggested_to < end:
            narrower = suggested_to - start + 1
        else:
            narrower = (end - start + 1) // 2
        if self.max_span is not None and self.max_span < end - start + 1:
            narrower = min(narrower, self.max_span)
        self.span = narrower
        self._successes = 0
        return True
