"""Markers of the reliability tests, registered here until pyproject.toml lists them."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "faults: fault injection (load processes killed, the warehouse restarted, concurrent runs; tens of seconds)",
    )
