"""Landing: every file dropped in `inbox/<source>/` is hashed, archived immutably, and registered in audit.

`receive()` hashes the file (sha256, streamed), copies it to `archive/<source>/<sha256[:2]>/<sha256><suffix>`
(read-only; an existing archive copy is never rewritten or deleted; `<suffix>` is the name's extension lower-cased
when it is a plain one, `.csv`, `.xlsx`, `.gz`..., and nothing otherwise, so that no name sent can make the archive
path too long or odd), records the drop in
`audit.receipt_log`, and for bytes never seen before registers the file (`audit.file_registry`) and opens
a batch (`audit.batch`, status `received`). The same bytes dropped again are recognised and get no new
batch. The inbox copy is removed only once the archive copy and the registry row exist, so nothing is lost
if the process dies half-way.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from etl.config import Home

SAFE_NAME_MAX_LENGTH = 120
SAFE_NAME_MAX_EXTENSION = 16  # a longer "extension" is not kept apart when a name is shortened
SAFE_NAME_FALLBACK = "fichier"

CHUNK = 1 << 20
_PLAIN_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


@dataclass(frozen=True)
class Receipt:
    source_id: str
    original_name: str
    sha256: str
    size_bytes: int
    archive_path: Path
    batch_id: int | None  # None when the same bytes were already received
    previous_status: str | None = None

    @property
    def is_new(self) -> bool:
        return self.batch_id is not None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def archive_path(home: Home, source_id: str, sha256: str, suffix: str) -> Path:
    """Where the bytes of `sha256` are archived; `suffix` (the name's extension) is kept only when it is a plain one
    (a dot and 1 to 10 letters or digits): a name sent may end in anything, up to 255 bytes."""
    suffix = suffix.lower() if _PLAIN_SUFFIX.fullmatch(suffix.lower()) else ""
    return home.folder("archive") / source_id / sha256[:2] / f"{sha256}{suffix}"


def _archive(src: Path, dest: Path) -> None:
    """Copy into the archive atomically (temp file + rename); an existing copy is left untouched."""
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    shutil.copyfile(src, tmp)
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    tmp.chmod(0o444)
    tmp.replace(dest)


def pending(home: Home, source_id: str, patterns: list[str]) -> list[Path]:
    """Files waiting in the source's inbox that match its declared patterns, oldest first then by name."""
    inbox = home.folder("inbox") / source_id
    if not inbox.is_dir():
        return []
    files = [
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and any(fnmatch.fnmatch(p.name, pat) for pat in patterns)
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def receive(engine, home: Home, source_id: str, path: Path, *, keep_inbox_copy: bool = False) -> Receipt:
    """Archive and register one dropped file; returns what was done."""
    import sqlalchemy as sa

    sha = sha256_of(path)
    size = path.stat().st_size
    dest = archive_path(home, source_id, sha, path.suffix)
    _archive(path, dest)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit.file_registry (source_id, sha256, size_bytes, original_name, archive_path, "
                "first_received_at) VALUES (:source_id, :sha256, :size_bytes, :original_name, :archive_path, "
                ":received_at) ON CONFLICT DO NOTHING"
            ),
            {
                "source_id": source_id,
                "sha256": sha,
                "size_bytes": size,
                "original_name": path.name,
                "archive_path": str(dest),
                "received_at": now,
            },
        )
        batch_id = conn.execute(
            sa.text(
                "INSERT INTO audit.batch (source_id, sha256, original_name, status, received_at) "
                "VALUES (:source_id, :sha256, :original_name, 'received', :received_at) "
                "ON CONFLICT (source_id, sha256) DO NOTHING RETURNING batch_id"
            ),
            {"source_id": source_id, "sha256": sha, "original_name": path.name, "received_at": now},
        ).scalar()
        previous = None
        if batch_id is None:
            previous = conn.execute(
                sa.text("SELECT status FROM audit.batch WHERE source_id = :source_id AND sha256 = :sha256"),
                {"source_id": source_id, "sha256": sha},
            ).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO audit.receipt_log (received_at, source_id, original_name, sha256, size_bytes, outcome, "
                "batch_id) VALUES (:received_at, :source_id, :original_name, :sha256, :size_bytes, :outcome, :batch_id)"
            ),
            {
                "received_at": now,
                "source_id": source_id,
                "original_name": path.name,
                "sha256": sha,
                "size_bytes": size,
                "outcome": "new" if batch_id else "duplicate",
                "batch_id": batch_id,
            },
        )
    if not keep_inbox_copy:
        path.unlink(missing_ok=True)
    return Receipt(source_id, path.name, sha, size, dest, batch_id, previous)


# --- names ---------------------------------------------------------------------------------------------------------


def safe_char(char: str) -> bool:
    """Whether `char` is kept as it is in a safe file name."""
    return char.isalpha() or char in "0123456789.-_"


def safe_file_name(name: str) -> str:
    """A name safe to use as a file name in quarantine/ and reports: keeps letters (accented too), digits, `.`, `-`,
    `_`; replaces path separators (`/`, `\\`), control characters, spaces and anything else by `_`; collapses runs of
    `_`; strips leading dots and `_`; limits to 120 characters keeping the extension; never empty (`fichier`).

    Accents are composed first (NFC), so that a name from a system writing `é` as `e` + accent keeps its `é`."""
    replaced = "".join(char if safe_char(char) else "_" for char in unicodedata.normalize("NFC", name))
    safe = re.sub(r"_{2,}", "_", replaced).lstrip("._")
    if len(safe) > SAFE_NAME_MAX_LENGTH:
        stem, dot, extension = safe.rpartition(".")
        if dot and stem and len(extension) + 1 <= SAFE_NAME_MAX_EXTENSION:
            safe = stem[: SAFE_NAME_MAX_LENGTH - len(extension) - 1] + "." + extension
        else:
            safe = safe[:SAFE_NAME_MAX_LENGTH]
    return safe or SAFE_NAME_FALLBACK


def printable(text: str, limit: int = 150) -> str:
    """`text` fit to quote in a message: control characters written as `\\xNN`, at most `limit` characters."""
    shown = "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def file_name_problem(name: str) -> str | None:
    """None when `name` is already safe (safe_file_name(name) == name), else a French sentence saying the name
    contained path separators or unusual characters and under which name the file is kept."""
    safe = safe_file_name(name)
    if safe == name:
        return None
    if not name:
        return f"Le fichier a été envoyé sans nom : il est conservé sous le nom « {safe} »."
    reasons = []
    if "/" in name or "\\" in name:
        reasons.append("des séparateurs de chemin (/ ou \\)")
    if any(unicodedata.category(char) == "Cc" for char in name):
        reasons.append("des caractères de contrôle")
    if any(not safe_char(char) and char not in "/\\" and unicodedata.category(char) != "Cc" for char in name):
        reasons.append("des espaces ou des caractères inhabituels")
    what = ""
    if reasons:
        what = "contient " + (", ".join(reasons[:-1]) + " et " if len(reasons) > 1 else "") + reasons[-1]
    if len(name) > SAFE_NAME_MAX_LENGTH:
        what += (", " if what else "") + f"dépasse {SAFE_NAME_MAX_LENGTH} caractères"
    if name[:1] in "._" and not what:
        what = "commence par un point ou un tiret bas"
    if not what:
        what = "contient des caractères à écrire autrement"
    return f"Le nom de fichier « {printable(name)} » {what} : le fichier est conservé sous le nom « {safe} »."
