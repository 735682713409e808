"""The completeness of the collection campaigns: régions (annual workbooks) and départements (PAQTE reports).

`campaign_status(engine, campaign)` reads the view core.regional_submission_status (migration 0009), which the
monitoring view and the publication read too; `paqte_status` reads core.paqte_submission_status; `format_status`
prints either for `observatoire submissions status`.
Files whose région could not be told (neither from the workbook nor from its name) are listed apart.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from etl.submissions import submission_sql
from etl.submissions.verdict import PAQTE, REGIONAL

WATCH_OPENS = (3, 1)  # regional_campaign_watch starts watching campaign N on 1 March of N + 1


def campaign_deadline(campaign: int) -> date:
    """Campaign N's workbooks are due by 30 April of N + 1 (as core.regional_submission_status says)."""
    return date(campaign + 1, 4, 30)


def watched_campaign(logical_date: datetime) -> int:
    """The campaign a run of regional_campaign_watch watches: the year before its logical date (Paris time)."""
    from etl.config import PARIS

    return logical_date.astimezone(PARIS).year - 1


def _query(conn, name: str, **params) -> pd.DataFrame:
    """The rows of the query `sql/submissions/<name>.sql` as a frame."""
    import sqlalchemy as sa

    return pd.DataFrame(conn.execute(sa.text(submission_sql(name)), params).mappings().all())


def campaign_status(engine, campaign: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per région for the campaign, the files whose région or campaign is unknown)."""
    with engine.connect() as conn:
        status = _query(conn, "regional_status", campaign=campaign)
        unattributed = _query(conn, "regional_unattributed")
    return status, unattributed


def _day(value) -> str:
    return pd.Timestamp(value).strftime("%d/%m/%Y") if value is not None and not pd.isna(value) else ""


def paqte_status(engine, semester: str) -> pd.DataFrame:
    """One row per département for a PAQTE semester (core.paqte_submission_status)."""
    with engine.connect() as conn:
        return _query(conn, "paqte_status", semester=semester)


# Per kind: the title, what the rows are, and the states as counted (the reports are masculine: un bilan).
_WORDING = {
    REGIONAL: ("Campagne {period} des indicateurs locaux", "régions", ("acceptée(s)", "rejetée(s)", "non reçue(s)")),
    PAQTE: ("Bilans PAQTE du semestre {period}", "départements", ("accepté(s)", "rejeté(s)", "non reçu(s)")),
}


def format_status(
    status: pd.DataFrame, period, today: date, *, unattributed: pd.DataFrame | None = None, kind: str = REGIONAL
) -> str:
    """The completeness of a campaign (`kind` regional: every région, then the files whose région or campaign is
    unknown) or of a PAQTE semester (the départements that sent a report, then the codes of those that did not)."""
    title, rows, (accepted, rejected, missing) = _WORDING[kind]
    deadline = status["deadline"].iloc[0]
    late = today > deadline
    counts = status["state"].value_counts()
    lines = [
        title.format(period=period) + f" : date limite {_day(deadline)}" + (" (dépassée)" if late else ""),
        f"{counts.get('acceptée', 0)} {accepted}, {counts.get('rejetée', 0)} {rejected}, "
        f"{counts.get('non reçue', 0)} {missing} sur {len(status)} {rows}.",
        "",
    ]
    for row in status.itertuples(index=False):
        if kind == PAQTE:
            if row.state == "acceptée":
                detail = f"accepté le {_day(row.accepted_at)}, version {int(row.accepted_version)}"
            elif row.state == "rejetée":
                detail = f"rejeté ({int(row.latest_errors)} erreur(s)) : {row.latest_file}"
            else:
                continue
            lines.append(f"  {row.departement_code:<4} {row.departement_name:<28} {detail}")
            continue
        if row.state == "acceptée":
            detail = (
                f"acceptée le {_day(row.accepted_at)}, version {int(row.accepted_version)} "
                f"(modèle {row.accepted_template_version})"
            )
            if row.latest_verdict == "rejetée":
                detail += f" ; dernier envoi rejeté ({int(row.latest_errors)} erreur(s)) : {row.latest_file}"
        elif row.state == "rejetée":
            detail = (
                f"rejetée ({int(row.latest_errors)} erreur(s)) : {row.latest_file}, "
                f"reçu le {_day(row.latest_received_at)}"
            )
        else:
            detail = "non reçue" + (" (en retard)" if late else "")
        lines.append(f"  {row.region_code}  {row.region_name:<28} {detail}")
    if kind == PAQTE:
        codes = status.loc[status["state"] == "non reçue", "departement_code"].tolist()
        if codes:
            lines.append(f"  non reçus{' (en retard)' if late else ''} : {', '.join(codes)}")
    if unattributed is not None and not unattributed.empty:
        lines += ["", "Fichiers rejetés dont la région ou la campagne n'a pas pu être déterminée :"]
        lines += [
            f"  {r.original_name} ({int(r.errors)} erreur(s)), reçu le {_day(r.received_at)}"
            for r in unattributed.itertuples()
        ]
    return "\n".join(lines)
