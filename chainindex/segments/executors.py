"""Where segment tasks run: a Dask cluster, or a process pool when Dask is not installed.

Both are seen as a :class:`concurrent.futures.Executor` (Dask through its
``Client.get_executor``), so the coordinator has one loop. :class:`TaskRunner` owns it:

* ``scheduler`` given: the Dask cluster at that address (``dask scheduler`` +
  ``dask worker tcp://HOST:8786`` on each machine; every worker needs logfilter installed and
  the data directory at the same path, a shared or local disk);
* else, with Dask installed: a ``LocalCluster`` of ``workers`` processes, one thread each;
* else: a :class:`~concurrent.futures.ProcessPoolExecutor` of ``workers`` processes (spawned,
  each set to die with its parent on Linux, so that ``kill -9`` of the command leaves no
  worker writing behind it).

A process pool whose worker died is broken for good; :meth:`TaskRunner.renew` replaces it so
that the segments it lost can be submitted again. Dask reschedules a lost worker's task by
itself and reports ``KilledWorker`` when it keeps dying.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import multiprocessing
import signal
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from chainindex.errors import ConfigError

__all__ = ["TaskRunner", "dask_available"]


def dask_available() -> bool:
    """Whether ``dask.distributed`` can be imported (``pip install 'logfilter[dask]'``)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _die_with_parent() -> None:
    """Process-pool initializer: SIGKILL this worker when its parent dies (Linux
    ``prctl(PR_SET_PDEATHSIG)``; nothing elsewhere)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1


class TaskRunner:
    """The executor segment tasks run on (see the module docstring); a context manager."""

    def __init__(self, workers: int, scheduler: str | None = None, *, use_dask: bool = True):
        self.workers = workers
        """Worker processes asked for (a local cluster or pool)."""
        self.scheduler = scheduler
        """Address of a Dask scheduler, or None."""
        self.kind = "dask" if scheduler is not None or (use_dask and dask_available()) else "pool"
        """``"dask"`` or ``"pool"``."""
        if scheduler is not None and not dask_available():
            raise ConfigError(
                "--scheduler needs Dask: pip install 'logfilter[dask]' (or leave --scheduler "
                "out to run on a local process pool)"
            )
        self._client: Any = None
        self._cluster: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self.executor: Executor = self._open()
        """Where tasks are submitted."""

    def _open(self) -> Executor:
        if self.kind == "pool":
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_die_with_parent,
            )
            return self._pool
        dist: Any = importlib.import_module("distributed")
        quiet = logging.getLogger("distributed")  # its INFO lines drown the progress
        if not quiet.isEnabledFor(logging.DEBUG):
            quiet.setLevel(logging.WARNING)
        try:
            if self.scheduler is not None:
                self._client = dist.Client(self.scheduler, timeout="20s")
            else:
                self._cluster = dist.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: never clash with another
                )
                self._client = dist.Client(self._cluster)
        except OSError as err:
            raise ConfigError(f"cannot reach the Dask scheduler {self.scheduler}: {err}") from None
        executor: Executor = self._client.get_executor(pure=False)
        return executor

    @property
    def parallel(self) -> int:
        """Tasks that run at once: the pool's workers, or the cluster's worker threads."""
        if self._client is not None:
            threads: int = sum(self._client.nthreads().values())
            return max(1, threads)
        return self.workers

    @property
    def where(self) -> str:
        """Who runs the tasks, for people."""
        if self.scheduler is not None:
            return f"the Dask cluster at {self.scheduler} ({self.parallel} worker threads)"
        if self.kind == "dask":
            return f"a Dask LocalCluster of {self.workers} worker processes"
        return f"a process pool of {self.workers} workers"

    def renew(self) -> None:
        """Replace a broken process pool (a worker died); nothing for Dask."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.executor = self._open()

    def close(self) -> None:
        """Stop the pool, or the client and the local cluster."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> TaskRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
