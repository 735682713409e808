"""The portal's pages: French HTML rendered on the server, no script, readable with a keyboard and a screen reader.

Every page has the language, a title, a link to skip to the content, headings in order, forms whose fields have
labels, focus outlines, and colours whose contrast with their background is at least 4.5:1 (WCAG AA). Every value
shown is escaped. Every form carries its CSRF token (`csrf_field`).
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime

from etl.config import PARIS

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fff; line-height: 1.5; }
header, main, footer { max-width: 70em; margin: 0 auto; padding: 0 1.5em; }
header { border-bottom: 3px solid #000091; display: flex; justify-content: space-between; align-items: center; }
a { color: #000091; } a:focus, button:focus, input:focus { outline: 3px solid #b34000; outline-offset: 2px; }
.skip { position: absolute; left: -999em; } .skip:focus { left: 1em; top: 1em; background: #fff; padding: .5em; }
label { display: block; font-weight: bold; margin-top: 1em; }
input[type=text], input[type=password], input[type=file] { font-size: 1em; padding: .4em; border: 1px solid #3a3a3a; }
button { font-size: 1em; padding: .5em 1.2em; margin-top: 1em; background: #000091; color: #fff; border: 0;
  cursor: pointer; }
button.lien { background: none; color: #000091; text-decoration: underline; padding: 0; margin: 0; }
.erreur-saisie { color: #b00020; font-weight: bold; }
.acceptee { color: #18753c; font-weight: bold; } .rejetee { color: #b00020; font-weight: bold; }
table.liste { border-collapse: collapse; margin: 1em 0; } table.liste th, table.liste td { border: 1px solid #666;
  padding: .3em .6em; text-align: left; }
"""


def e(value) -> str:
    """`value` escaped for HTML (None as empty)."""
    return html.escape("" if value is None else str(value))


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf_token" value="{e(token)}">'


def day(value) -> str:
    """A date or time in French (`30/04/2026`, `12/05/2026 à 14:03` in Paris time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def page(title: str, body: str, *, who: str | None = None, csrf: str | None = None, head: str = "") -> str:
    """A whole page: `who` (the account's login) and `csrf` show the logout button."""
    logout = ""
    if who and csrf:
        logout = (
            f'<form method="post" action="/deconnexion"><p>Connecté : {e(who)} {csrf_field(csrf)}'
            '<button type="submit" class="lien">Se déconnecter</button></p></form>'
        )
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f"<title>{e(title)} — Portail régional de l'Observatoire QPV</title><style>{STYLE}</style>{head}</head>"
        '<body><a class="skip" href="#contenu">Aller au contenu</a>'
        f'<header><p><a href="/">Portail régional de l\'Observatoire QPV</a></p>{logout}</header>'
        f'<main id="contenu"><h1>{e(title)}</h1>{body}</main>'
        "<footer><p>Observatoire national de la politique de la ville</p></footer></body></html>"
    )


def login_page(csrf: str, message: str | None = None, login: str = "") -> str:
    error = f'<p class="erreur-saisie" role="alert" id="erreur">{e(message)}</p>' if message else ""
    described = ' aria-describedby="erreur"' if message else ""
    body = (
        f'{error}<form method="post" action="/connexion">{csrf_field(csrf)}'
        f'<label for="login">Identifiant</label><input type="text" id="login" name="login" value="{e(login)}" '
        f'autocomplete="username" required{described}>'
        '<label for="password">Mot de passe</label><input type="password" id="password" name="password" '
        f'autocomplete="current-password" required{described}>'
        '<p><button type="submit">Se connecter</button></p></form>'
    )
    return page("Connexion", body)


def state_text(row: dict | None) -> str:
    """The state of the territory's workbook as `submissions status` says it."""
    if not row or row.get("state") not in ("acceptée", "rejetée"):
        return "non reçu"
    if row["state"] == "rejetée":
        return f"rejeté ({row.get('latest_errors') or 0} erreur(s))"
    version = row.get("accepted_version")
    version = int(version) if isinstance(version, float) and version.is_integer() else version
    return f"accepté le {day(row.get('accepted_at'))}, version {e(version)}"


def deposits_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>Aucun dépôt pour l'instant.</p>"
    lines = [
        '<table class="liste"><caption>Vos dépôts, du plus récent au plus ancien</caption><thead><tr>'
        '<th scope="col">N°</th><th scope="col">Date</th><th scope="col">Période</th><th scope="col">Fichier</th>'
        '<th scope="col">Verdict</th><th scope="col">Erreurs</th><th scope="col">Déposé par</th></tr></thead><tbody>'
    ]
    for row in rows:
        css = "acceptee" if row["verdict"] == "acceptée" else "rejetee"
        lines.append(
            f'<tr><td><a href="/depots/{row["deposit_id"]}">{row["deposit_id"]}</a></td><td>{day(row["deposited_at"])}'
            f"</td><td>{e(row['period'])}</td><td>{e(row['original_name'])}</td>"
            f'<td class="{css}">{e(row["verdict"])}</td><td>{row["errors"]}</td><td>{e(row["login"])}</td></tr>'
        )
    lines.append("</tbody></table>")
    return "".join(lines)


def home_page(account, period: str, due: date, state: dict | None, rows: list[dict], csrf: str) -> str:
    what = "Rapport PAQTE du semestre" if account.kind == "paqte" else "Campagne"
    body = (
        f"<p>Territoire : <strong>{e(account.territory)}</strong></p>"
        f"<p>{what} en cours : <strong>{e(period)}</strong> — à déposer au plus tard le <strong>{day(due)}</strong>"
        "</p>"
        f"<p>État de votre classeur : <strong>{state_text(state)}</strong></p>"
        "<h2>1. Télécharger le classeur</h2>"
        f'<p><a href="/modele">Télécharger le classeur pré-rempli de la période {e(period)}</a> (fichier Excel).</p>'
        "<h2>2. Déposer le classeur rempli</h2>"
        f'<form method="post" action="/depots" enctype="multipart/form-data">{csrf_field(csrf)}'
        '<label for="fichier">Classeur rempli (.xlsx, 5 Mo au plus)</label>'
        '<input type="file" id="fichier" name="fichier" accept=".xlsx" required>'
        '<p><button type="submit">Déposer et vérifier</button></p></form>'
        f"<h2>Historique de vos dépôts</h2>{deposits_table(rows)}"
    )
    return page("Votre espace de dépôt", body, who=account.login, csrf=csrf)


def _report_body(report_html: str) -> tuple[str, str]:
    """(style, body) of the intake's report page, its headings moved one level down (the page has its own h1)."""
    style = re.search(r"<style>(.*?)</style>", report_html, re.S)
    body = re.search(r"<body>(.*)</body>", report_html, re.S)
    inner = body.group(1) if body else ""
    inner = re.sub(r"<(/?)h2>", r"<\1h3>", inner)
    inner = re.sub(r"<(/?)h1>", r"<\1h2>", inner)
    own = re.sub(r"body\s*\{[^}]*\}", "", style.group(1)) if style else ""  # the page's body keeps its layout
    return own, inner


def verdict_page(row: dict, csrf: str, who: str, *, next_step: str | None = None) -> str:
    """The verdict of one deposit: the outcome in one sentence, then the intake's report (findings and sheets)."""
    accepted = row["verdict"] == "acceptée"
    css = "acceptee" if accepted else "rejetee"
    outcome = (
        "Le classeur est accepté : il sera chargé dans l'entrepôt."
        if accepted
        else f"Le classeur est rejeté : {row['errors']} erreur(s) à corriger (cellules signalées ci-dessous)."
    )
    style, report = _report_body(row["report_html"])
    body = (
        f'<p role="status">Dépôt n° {row["deposit_id"]} du {day(row["deposited_at"])}, fichier '
        f'« {e(row["original_name"])} » : <span class="{css}">{e(row["verdict"])}</span>. {e(outcome)}</p>'
        + (f"<p>{e(next_step)}</p>" if next_step else "")
        + f'<section aria-label="Rapport de vérification">{report}</section>'
        + '<p><a href="/">Retour à votre espace</a></p>'
    )
    return page(f"Dépôt n° {row['deposit_id']} : {row['verdict']}", body, who=who, csrf=csrf,
                head=f"<style>{style}</style>")  # fmt: skip


def follow_up_page(regions, departements, campaign: str, semester: str, who: str, csrf: str) -> str:
    """/suivi: the states of `submissions status` for the régions (campaign) and the départements (PAQTE)."""

    def table(frame, code: str, name: str, caption: str) -> str:
        lines = [
            f'<table class="liste"><caption>{e(caption)}</caption><thead><tr><th scope="col">Code</th>'
            '<th scope="col">Territoire</th><th scope="col">État</th><th scope="col">Dernier fichier</th></tr>'
            "</thead><tbody>"
        ]
        for row in frame.to_dict("records") if frame is not None else []:
            lines.append(
                f"<tr><td>{e(row[code])}</td><td>{e(row[name])}</td><td>{state_text(row)}</td>"
                f"<td>{e(row.get('latest_file'))}</td></tr>"
            )
        lines.append("</tbody></table>")
        return "".join(lines)

    body = (
        f"<h2>Campagne {e(campaign)} des régions</h2>"
        + table(regions, "region_code", "region_name", f"Les 18 régions, campagne {campaign}")
        + f"<h2>Rapports PAQTE du semestre {e(semester)}</h2>"
        + table(departements, "departement_code", "departement_name", f"Les 101 départements, semestre {semester}")
    )
    return page("Suivi des dépôts", body, who=who, csrf=csrf)


def message_page(title: str, text: str, *, who: str | None = None, csrf: str | None = None) -> str:
    return page(title, f'<p>{e(text)}</p><p><a href="/">Retour à l\'accueil</a></p>', who=who, csrf=csrf)
