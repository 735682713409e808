"""Where things live: the project folders (dags/, sql/, expectations/) and the runtime folder OBSERVATOIRE_HOME.

`OBSERVATOIRE_HOME` (default `./var` under the project) holds everything the platform writes at run time:
the embedded warehouse (`pg/`), Airflow's home (`airflow/`), and the data folders `inbox/`, `archive/`,
`quarantine/`, `publication/`, `datadocs/`. Nothing here does I/O at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = PROJECT_ROOT / "dags"
PLUGINS_FOLDER = PROJECT_ROOT / "plugins"
SQL_FOLDER = PROJECT_ROOT / "sql"
EXPECTATIONS_FOLDER = PROJECT_ROOT / "expectations"

# The observatory's clock: schedules, deadlines and campaigns are French administrative dates.
PARIS = ZoneInfo("Europe/Paris")

DATA_FOLDERS = ("inbox", "archive", "quarantine", "publication", "datadocs")


@dataclass(frozen=True)
class Home:
    """The runtime folder and its well-known sub-folders."""

    root: Path

    @classmethod
    def from_env(cls) -> Home:
        raw = os.environ.get("OBSERVATOIRE_HOME") or str(PROJECT_ROOT / "var")
        return cls(Path(raw).expanduser().resolve())

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    def folder(self, name: str) -> Path:
        return self.root / name

    def ensure(self) -> Home:
        """Create the runtime folders (idempotent)."""
        for name in (*DATA_FOLDERS, "airflow"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        return self
