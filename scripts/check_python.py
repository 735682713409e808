"""Refuse to bootstrap on a Python older than 3.11, with one clear sentence instead of a resolver error."""

import sys

if sys.version_info < (3, 11):  # noqa: UP036 - runs under any python3, before the venv exists
    found = ".".join(map(str, sys.version_info[:3]))
    sys.stderr.write(
        f"Observatoire QPV needs Python >= 3.11 but found {found}: install a newer python3 "
        "or run make with PYTHON=/path/to/python3.11.\n"
    )
    sys.exit(1)
