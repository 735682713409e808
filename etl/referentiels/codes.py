"""Territory codes as text: zero-padding that never goes through a number.

Only all-digit codes are padded; anything else (`2A`, `1053.0`, `QP075001`) is left exactly as read, so
that a value damaged upstream reaches the quality gate as it is and is reported, not silently "repaired".
"""

from __future__ import annotations


def pad_digits(values, width: int):
    """'1053' -> '01053' for width 5; non-digit values unchanged. Vectorised over a pandas Series."""
    digits = values.str.fullmatch(r"\d+").fillna(False).astype(bool)
    return values.where(~digits, values.str.zfill(width))


def pad_departement(values):
    """Département codes: '1' -> '01'; '2A', '971' and anything else unchanged."""
    short = values.str.fullmatch(r"\d").fillna(False).astype(bool)
    return values.where(~short, values.str.zfill(2))
