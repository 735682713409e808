"""Reference data: territories, periods and the indicator catalogue."""
