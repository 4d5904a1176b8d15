"""keccak256 with the fastest backend available.

eth-hash picks pycryptodome when both backends are installed; the pysha3 backend
(``safe-pysha3``) hashes 32-byte values about seven times faster on this project's
benchmark machine (see BENCHMARKS.md), so it is used directly when importable.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["BACKEND", "keccak256"]


def _select() -> tuple[str, Callable[[bytes], bytes]]:
    try:
        from sha3 import keccak_256  # safe-pysha3
    except ImportError:  # pragma: no cover - depends on the installed extras
        from eth_hash.auto import keccak as auto_keccak

        return "eth-hash auto", auto_keccak

    def pysha3_keccak256(data: bytes) -> bytes:
        digest: bytes = keccak_256(data).digest()
        return digest

    return "pysha3", pysha3_keccak256


BACKEND, keccak256 = _select()
"""Name of the backend in use, and the hash function itself (bytes -> 32 bytes)."""
