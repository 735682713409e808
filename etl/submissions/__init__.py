"""The workbooks the State's services send: the regional template and the PAQTE report, their checks and intake.

`submission_sql(name)` reads a query of sql/submissions/ at call time (the SQL lives in sql/, not in Python).
"""

from etl.config import SQL_FOLDER


def submission_sql(name: str) -> str:
    """The text of `sql/submissions/<name>.sql`."""
    return (SQL_FOLDER / "submissions" / f"{name}.sql").read_text(encoding="utf-8")
