"""Work for tests/test_ahead.py's worker processes (a module they import by name: test modules are not importable)."""

from __future__ import annotations

import os


def where(value: int) -> tuple[int, int]:
    """The value squared and the process that computed it."""
    return value * value, os.getpid()


def dies_on(fatal: int, value: int) -> tuple[int, int]:
    """`where`, except that the worker process dies abruptly on `fatal` (as one killed or out of memory)."""
    if value == fatal:
        os._exit(3)
    return where(value)


def refuses(value: int) -> tuple[int, int]:
    """`where`, except that 3 is refused with an error of the work itself."""
    if value == 3:
        raise ValueError("3 is refused")
    return where(value)
