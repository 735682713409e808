"""Landing: files archived by sha256 before use, registered once, never deleted from the archive."""

from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa

from etl import landing

pytestmark = pytest.mark.warehouse


def _drop(home, source_id, name, content: bytes):
    inbox = home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(content)
    return inbox / name


def test_same_bytes_twice_are_registered_once(isolated):
    eng, home = isolated.engine, isolated.home
    first = landing.receive(eng, home, "cog_regions", _drop(home, "cog_regions", "regions.csv", b"code;nom\n01;A\n"))
    again = landing.receive(
        eng, home, "cog_regions", _drop(home, "cog_regions", "regions-bis.csv", b"code;nom\n01;A\n")
    )
    assert first.is_new and not again.is_new
    assert again.sha256 == first.sha256 and again.previous_status == "received"
    assert first.archive_path.read_bytes() == b"code;nom\n01;A\n"
    assert not stat.S_IMODE(first.archive_path.stat().st_mode) & 0o222, "archive copies are read-only"
    assert landing.pending(home, "cog_regions", ["*.csv"]) == []
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit.batch")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM audit.file_registry")).scalar() == 1
        outcomes = conn.execute(sa.text("SELECT outcome FROM audit.receipt_log ORDER BY receipt_id")).scalars().all()
    assert outcomes == ["new", "duplicate"]


def test_different_bytes_get_their_own_batch_and_archive_copy(isolated):
    eng, home = isolated.engine, isolated.home
    a = landing.receive(eng, home, "cog_regions", _drop(home, "cog_regions", "r.csv", b"code;nom\n01;A\n"))
    b = landing.receive(eng, home, "cog_regions", _drop(home, "cog_regions", "r.csv", b"code;nom\n02;B\n"))
    assert a.batch_id != b.batch_id and a.archive_path != b.archive_path
    assert a.archive_path.exists() and b.archive_path.exists()
    assert a.archive_path.parent.parent.name == "cog_regions"


def test_pending_only_lists_declared_patterns(isolated):
    home = isolated.home
    _drop(home, "cog_regions", "regions.csv", b"x")
    _drop(home, "cog_regions", "notes.txt", b"x")
    _drop(home, "cog_regions", ".partial.csv", b"x")
    assert [p.name for p in landing.pending(home, "cog_regions", ["regions*.csv"])] == ["regions.csv"]
