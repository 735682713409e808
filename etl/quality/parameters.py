"""Value sets that gate-2 suites read at run time (`{"$PARAMETER": name}`), queried from the warehouse.

Referential integrity is checked before loading: a QPV's département must be one the warehouse knows, a
correspondence must name QPV that exist, and so on. Each parameter is one SQL query declared here.
"""

from __future__ import annotations

from etl.sources.national import COMPUTED_ELSEWHERE

_COMPUTED = "(" + ", ".join(f"'{code}'" for code in COMPUTED_ELSEWHERE) + ")"

QUERIES = {
    "regions": "SELECT code FROM core.region ORDER BY 1",
    "departements": "SELECT code FROM core.departement ORDER BY 1",
    "qpv_2015": "SELECT code FROM core.qpv WHERE geography = '2015' ORDER BY 1",
    "qpv_2024": "SELECT code FROM core.qpv WHERE geography = '2024' ORDER BY 1",
    "measures": "SELECT numero FROM core.measure ORDER BY 1",
    "months": "SELECT code FROM core.period WHERE kind = 'month' ORDER BY 1",
    "years": "SELECT code FROM core.period WHERE kind = 'year' ORDER BY 1",
    "quarters": "SELECT code FROM core.period WHERE kind = 'quarter' ORDER BY 1",
    "qpv_codes": "SELECT code FROM core.qpv ORDER BY 1",
    "communes": "SELECT code FROM core.commune ORDER BY 1",
    # the communes the warehouse knows as `code|name` (the QPV lists' COG codes and names), for the 2015 attribute
    # table that names its communes (etl.referentiels.territories.normalise_qpv)
    "communes_noms": "SELECT code || '|' || nom FROM core.commune WHERE nom IS NOT NULL ORDER BY 1",
    # the (QPV, commune) pairs of the referential, as `QPV|commune`: a job seeker's QPV must lie in their commune
    "qpv_communes": "SELECT qpv_code || '|' || commune_code FROM core.qpv_commune ORDER BY 1",
    "territory_codes": (
        "SELECT code FROM core.qpv UNION SELECT code FROM core.commune UNION SELECT siren FROM core.epci "
        "UNION SELECT code FROM core.departement UNION SELECT code FROM core.region UNION SELECT 'FR' ORDER BY 1"
    ),
    # The national indicators of the 2014 catalogue that producers send as such (etl/sources/national.py):
    # IND05 is computed from France Travail's contact points, IND20-IND22 from the ANS files.
    "national_indicators": (
        "SELECT code FROM core.indicator WHERE family = 'convention_2014' AND mode = 'national' "
        f"AND code NOT IN {_COMPUTED} ORDER BY 1"
    ),
    "national_indicator_units": (
        "SELECT code || '|' || unite FROM core.indicator WHERE family = 'convention_2014' AND mode = 'national' "
        f"AND code NOT IN {_COMPUTED} ORDER BY 1"
    ),
}


def parameters_for(engine, names: list[str]) -> dict[str, list[str]]:
    import sqlalchemy as sa

    unknown = [n for n in names if n not in QUERIES]
    if unknown:
        raise KeyError(f"unknown suite parameter(s) {unknown}: declare them in {__name__}.QUERIES")
    if not names:
        return {}
    with engine.connect() as conn:
        return {name: list(conn.execute(sa.text(QUERIES[name])).scalars()) for name in names}
