"""Data quality: Great Expectations gates over files (gate 1) and typed rows (gate 2), and their reports."""
