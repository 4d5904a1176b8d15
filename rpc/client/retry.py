"""Waiting between tries: exponential backoff with a little jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait before try number ``attempt`` (1 = the first retry)."""

    initial: float = 0.1
    """Seconds before the first retry."""
    factor: float = 2.0
    """Growth of the wait from one retry to the next."""
    maximum: float = 5.0
    """Longest wait."""
    jitter: float = 0.1
    """Fraction of the wait drawn at random (so many clients do not retry in step)."""

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < 0 or self.factor < 1 or not 0 <= self.jitter <= 1:
            raise ValueError(f"bad backoff {self}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (1-based)."""
        wait = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        return wait * (1 - self.jitter * random.random())
