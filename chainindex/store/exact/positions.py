"""Log positions: a log's block and log index as one integer, within a section or absolute.

A stored bitmap covers one section of ``section_size`` blocks. Inside it a log is
``(block - section_start) << log_bits | log_index``, a u32: the block offset takes
``offset_bits = ceil(log2(section_size))`` bits and the log index the ``32 - offset_bits``
others (20 bits, a million logs per block, for sections of 4096 blocks). Across sections (the
query path, the head index) a position is ``block << log_bits | log_index``, a u64; a section's
positions become absolute by adding ``section_start << log_bits``, since the block offset is in
the high bits. Either way the block and the log index are read off a position without
another lookup, and roaring's containers (the high 16 bits) group each block's logs.

Section sizes leaving fewer than :data:`MIN_LOG_BITS` bits for the log index are refused (a
block of a busy chain can hold tens of thousands of logs); a block with more logs than its
bits can count is :class:`~chainindex.errors.ExactIndexError` naming the block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from chainindex.errors import ConfigError, ExactIndexError

__all__ = ["MIN_LOG_BITS", "PositionLayout"]

MIN_LOG_BITS = 16
"""Fewest bits for the log index (65,536 logs per block)."""

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class PositionLayout:
    """How positions are laid out for one section size (see the module docstring)."""

    section_size: int
    """Blocks per section."""
    offset_bits: int = field(init=False)
    """Bits of the block offset within a section."""
    log_bits: int = field(init=False)
    """Bits of the log index."""

    def __post_init__(self) -> None:
        offset_bits = max(1, (self.section_size - 1).bit_length())
        log_bits = 32 - offset_bits
        if log_bits < MIN_LOG_BITS:
            raise ConfigError(
                f"section size {self.section_size} leaves {log_bits} bits for a log's index "
                f"in the exact log index (at least {MIN_LOG_BITS} needed): use sections of at "
                f"most {1 << (32 - MIN_LOG_BITS)} blocks"
            )
        object.__setattr__(self, "offset_bits", offset_bits)
        object.__setattr__(self, "log_bits", log_bits)

    @property
    def max_logs(self) -> int:
        """Most logs a block may hold."""
        return 1 << self.log_bits

    def check_logs(self, block: int, count: int) -> None:
        """Refuse a block with more logs than a position can count."""
        if count > self.max_logs:
            raise ExactIndexError(
                f"block {block} holds {count} logs, more than the {self.max_logs} the exact "
                f"log index counts per block with sections of {self.section_size} blocks: "
                "sync into a new data directory with a smaller --section-size"
            )

    def section_base(self, section: int) -> int:
        """What turns a position within ``section`` into an absolute one (added)."""
        return (section * self.section_size) << self.log_bits

    def absolute(self, section: int, relative: U32 | npt.NDArray[np.uint16]) -> U64:
        """Positions within ``section`` as absolute ones."""
        return relative.astype(np.uint64) + np.uint64(self.section_base(section))

    def block_range(self, first: int, last: int) -> tuple[int, int]:
        """The absolute positions ``[lo, hi)`` of the logs of blocks ``first..last``."""
        return first << self.log_bits, (last + 1) << self.log_bits

    def split(self, positions: U64) -> tuple[I64, I64]:
        """Block numbers and log indexes of absolute positions."""
        blocks = (positions >> np.uint64(self.log_bits)).astype(np.int64)
        logs = (positions & np.uint64(self.max_logs - 1)).astype(np.int64)
        return blocks, logs
