"""The migrations :func:`~chainindex.store.open_datadir` applies to older data directories:
schema version → the steps that take a directory of that version to the next one.

Each step adds its writes to the one batch that restamps the directory (see
:func:`~chainindex.store.schema.check_schema`); work too long for one batch is marked there
and done afterwards, resumably. A change of what is stored appends its step to the list of
the version it lands in, so that one bump carries every change of one landing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chainindex.store.exact.build import mark_rebuild, mark_unbuilt
from chainindex.store.schema import MigrationStep

__all__ = ["MIGRATIONS"]

MIGRATIONS: Mapping[int, Sequence[MigrationStep]] = {
    # 1 → 2: the R rows of complete groups; a version-1 directory (no rows) is read as it is.
    1: (),
    # 2 → 3: the exact log index, built from the stored logs after the migration (header
    # records of format 1 need nothing: they are read as they are).
    2: (mark_unbuilt,),
    # 3 → 4: the exact index's format 4 (fingerprint keys, dense positions, tagged records):
    # the format-3 keys are deleted in batches after the migration, then the index rebuilt
    # downward from the stored logs (chainindex.store.exact.build).
    3: (mark_rebuild,),
}
