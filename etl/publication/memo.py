"""Results of disclosure control remembered per process, keyed on the content of what they were computed from.

The editions published one after the other in one process (a backfill, `make demo`'s chains) protect the same pieces
again: a semestrial month belongs to the series of several semesters, a year of the données QPV tables to three
annual editions (as N, N-1 or N-3). Primary and secondary suppression and gate 3 depend only on their inputs' values
and the rules, so each piece is computed once: the key is a sha256 of every value, column and type of the inputs
(index included) and the rules, so a piece whose figures changed is computed again. Bounded (least recently used
first out); the caller copies what it takes out before changing it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import pandas as pd


def content_key(*parts: Any) -> tuple:
    """A key for `parts`: each DataFrame by the digest of its rows' hashes (index included), its columns and their
    types; anything else (the rules, a name) as itself, which must be hashable."""
    key = []
    for part in parts:
        if isinstance(part, pd.DataFrame):
            digest = hashlib.sha256(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
            digest.update(repr([(str(c), str(t)) for c, t in part.dtypes.items()]).encode())
            key.append(digest.hexdigest())
        else:
            key.append(part)
    return tuple(key)


class Memo:
    """At most `size` results, the least recently used forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: tuple) -> Any:
        """The result remembered under `key`, or None."""
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return self._entries[key]

    def put(self, key: tuple, value: Any) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
