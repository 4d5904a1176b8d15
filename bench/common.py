"""Shared benchmark helpers: timing by median of repeats, tables, the machine description.

Every benchmark prints a Markdown table whose figures are medians of repeated runs; the
machine line says where they were measured. Figures go into BENCHMARKS.md as printed.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Table", "machine", "median_seconds"]


def median_seconds(
    run: Callable[[], object], *, repeats: int = 7, setup: Callable[[], object] | None = None
) -> float:
    """Median wall time of ``run()`` over ``repeats`` runs (``setup()`` untimed before each)."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    """One line describing the machine and the software measured on it."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            mem_gib = int(f.readline().split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        mem_gib = 0.0
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, numpy {np.__version__}"
    )


class Table:
    """A Markdown table built row by row and printed at the end."""

    def __init__(self, title: str, columns: Sequence[str]) -> None:
        self.title = title
        """Heading printed above the table."""
        self.columns = list(columns)
        """Column names."""
        self.rows: list[list[str]] = []
        """Cells, already formatted."""

    def add(self, *cells: object) -> None:
        """Append a row; floats are printed with three significant digits."""
        self.rows.append([f"{c:.3g}" if isinstance(c, float) else str(c) for c in cells])

    def render(self) -> str:
        """The table as Markdown."""
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        return "\n".join(lines) + "\n"

    def print(self) -> None:
        """Print the table followed by a blank line."""
        print(self.render(), flush=True)
