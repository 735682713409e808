"""Observatoire QPV: all the platform's logic (warehouse, sources, quality gates, publication)."""
