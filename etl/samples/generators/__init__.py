"""Deterministic sample generators that write files in each producer's real shape."""
