"""Territory codes as text: zero-padding that never goes through a number.

Only all-digit codes are padded; anything else (`2A`, `1053.0`, `QP075001`) is left exactly as read, so
that a value damaged upstream reaches the quality gate as it is and is reported, not silently "repaired".
"""

from __future__ import annotations

import re
from typing import Any

_GROUP_SPACES = re.compile(r"[ \u00a0\u202f]")


def pad_digits(values, width: int):
    """'1053' -> '01053' for width 5; non-digit values unchanged. Vectorised over a pandas Series."""
    digits = values.str.fullmatch(r"\d+").fillna(False).astype(bool)
    return values.where(~digits, values.str.zfill(width))


def pad_departement(values):
    """Département codes: '1' -> '01'; '2A', '971' and anything else unchanged."""
    short = values.str.fullmatch(r"\d").fillna(False).astype(bool)
    return values.where(~short, values.str.zfill(2))


def normalise_siren(raw: Any) -> str | None:
    """The 9 digits of a SIREN (group spaces removed; a whole number kept as its digits), None when it is not 9
    digits."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = _GROUP_SPACES.sub("", str(raw).strip()) if raw is not None else ""
    return text if re.fullmatch(r"[0-9]{9}", text) else None


def siren_key_ok(siren: str) -> bool:
    """Whether the 9 digits pass the Luhn check that SIREN numbers carry."""
    total = 0
    for position, char in enumerate(reversed(siren)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0
