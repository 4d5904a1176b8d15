"""What ``logfilter check`` finds: :class:`Problem` (one line each: the component and the
blocks, never a file path) and :class:`CheckReport` (the problems and what was read).

Like ``git fsck`` or LevelDB's own ``paranoid_checks``, the check reports and does not
change anything; unlike them, a problem is told in the directory's own terms (the blocks a
damaged LevelDB block held, not its file), so that the operator knows what a repair will
rebuild (:data:`~chainindex.store.damage.PRIMARY` components are the node's to give again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chainindex.errors import DataDamagedError
from chainindex.store.damage import PRIMARY

__all__ = ["CheckReport", "Problem", "Problems"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a data directory."""

    component: str
    """Which part (:mod:`chainindex.store.damage`'s names)."""
    first: int | None
    """First block affected (None: not tied to blocks)."""
    last: int | None
    """Last block affected."""
    detail: str
    """What is wrong, in words (no path)."""
    storage: bool = False
    """LevelDB itself found the records unreadable (a block failing its checksum): a repair
    first salvages the database (``plyvel.repair_db``)."""

    @property
    def primary(self) -> bool:
        """Whether only the node can give the damaged data again."""
        return self.component in PRIMARY

    def line(self) -> str:
        """The problem as one line."""
        if self.first is None or self.last is None:
            return f"{self.component}: {self.detail}"
        return f"{self.component}, blocks {self.first}-{self.last}: {self.detail}"

    def error(self) -> DataDamagedError:
        """The problem as the error sync and serve stop with."""
        return DataDamagedError(self.component, self.first, self.last, self.detail)


class Problems:
    """The problems found so far, in order; a problem continuing the previous one (same
    component and detail, the next blocks) extends it, so that a damaged run is one line."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        """The problems."""

    def add(
        self,
        component: str,
        first: int | None,
        last: int | None,
        detail: str,
        *,
        storage: bool = False,
    ) -> None:
        """Record a problem (merged with the previous one when it continues it)."""
        if self.items and first is not None and last is not None:
            prev = self.items[-1]
            if (
                prev.component == component
                and prev.detail == detail
                and prev.last is not None
                and prev.first is not None
                and prev.last + 1 >= first
            ):
                self.items[-1] = Problem(
                    component, prev.first, max(prev.last, last), detail, prev.storage or storage
                )
                return
        self.items.append(Problem(component, first, last, detail, storage))

    def __len__(self) -> int:
        return len(self.items)


@dataclass(slots=True)
class CheckReport:
    """What a check read and found."""

    problems: list[Problem] = field(default_factory=list)
    """Everything wrong, in the order found."""
    tail: int | None = None
    """First synced block (None: nothing synced)."""
    head: int | None = None
    """Synced head."""
    logs: int = 0
    """Logs read."""
    sections: int = 0
    """Bloom sections checked."""
    exact_sections: int = 0
    """Sections whose exact-index records were checked."""
    text_docs: int | None = None
    """Logs in the text index (None: no text index)."""

    @property
    def sound(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems

    @property
    def primary(self) -> list[Problem]:
        """Problems only the node can mend."""
        return [p for p in self.problems if p.primary]

    @property
    def derived(self) -> list[Problem]:
        """Problems ``logfilter repair`` mends."""
        return [p for p in self.problems if not p.primary]

    def summary(self) -> str:
        """The one line printed for a sound directory."""
        if self.tail is None or self.head is None:
            return "data directory sound: no blocks synced yet"
        text = "" if self.text_docs is None else f", text index of {self.text_docs} logs"
        return (
            f"data directory sound: {self.head - self.tail + 1} blocks ({self.tail}-{self.head}), "
            f"{self.logs} logs, {self.sections} bloom sections, exact index of "
            f"{self.exact_sections} sections{text}"
        )
