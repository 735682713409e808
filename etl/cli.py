"""The `observatoire` command: warehouse lifecycle, migrations, the demo, and Airflow with the project's settings.

Every failure a user can act on ends with one sentence on stderr and a non-zero exit code; a traceback is
shown only with OBSERVATOIRE_DEBUG=1.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from etl.errors import ObservatoireError


def _warehouse(args) -> int:
    from etl import warehouse
    from etl.config import Home
    from etl.warehouse import embedded
    from etl.warehouse.urls import redact

    home = Home.from_env()
    if args.action == "url":
        # the URL is printed for tools (psql "$(observatoire warehouse url)"), but a password in it would land in
        # terminals, shell histories and CI logs: it is masked unless asked for
        found = warehouse.url(start=True, home=home)
        shown = redact(found, show_password=args.show_password)
        print(shown)
        if shown != found:
            print(
                "observatoire: the password is shown as ***; add --show-password to print it (or keep it out of the "
                "URL: libpq reads PGPASSWORD and ~/.pgpass).",
                file=sys.stderr,
            )
    elif args.action == "start":
        if not warehouse.is_embedded():
            raise ObservatoireError("WAREHOUSE_URL is set, so there is no embedded warehouse to start.")
        home.root.mkdir(parents=True, exist_ok=True)
        server = embedded.start(home.pgdata)
        print(f"embedded warehouse running (pid {server.pid}): {redact(server.url())}")
    elif args.action == "stop":
        if not warehouse.is_embedded():
            raise ObservatoireError("WAREHOUSE_URL is set: stop that server with its own tools.")
        print("embedded warehouse stopped" if embedded.stop(home.pgdata) else "embedded warehouse was not running")
    elif args.action == "status":
        if not warehouse.is_embedded():
            warehouse.engine()
            print(f"external warehouse answers: {redact(warehouse.url())}")
            return 0
        server = embedded.status(home.pgdata)
        if not server.running:
            print(f"embedded warehouse not running (data folder {home.pgdata})")
            return 3
        print(f"embedded warehouse running (pid {server.pid}): {redact(server.url())}")
    elif args.action == "fingerprint":
        from etl.warehouse.fingerprint import fingerprint

        for name, (count, digest) in sorted(fingerprint(warehouse.engine(), portable=args.portable).items()):
            print(f"{name}\t{count}\t{digest}")
    return 0


def _migrate(_args) -> int:
    from etl import warehouse
    from etl.warehouse import migrations

    result = migrations.migrate(warehouse.engine())
    if result.changed:
        print(f"warehouse migrated from {result.before or 'empty'} to {result.after}")
    else:
        print(f"warehouse already at the newest version ({result.after}): nothing to do")
    return 0


def _demo(_args) -> int:
    from etl.samples import demo

    return demo.main()


def _bench(args) -> int:
    from etl.samples import bench

    names = ("rows", "runs", "months", "json", "only", "bi_scale", "bi_clients", "bi_seconds")
    argv = [f"--{name.replace('_', '-')}={value}" for name in names if (value := getattr(args, name))]
    argv += ["--no-scaling"] if args.no_scaling else []
    return bench.main(argv)


def _docs(args) -> int:
    """Check (or with --write rewrite) the README tables generated from the source registry."""
    from etl.orchestration import source_docs

    text = source_docs.README_FILE.read_text(encoding="utf-8")
    if args.write:
        updated = source_docs.refreshed(text)
        if updated != text:
            source_docs.README_FILE.write_text(updated, encoding="utf-8")
            print(f"{source_docs.README_FILE.name}: the tables of the source DAGs rewritten from the registry")
        else:
            print(f"{source_docs.README_FILE.name}: already matches the registry")
        return 0
    if stale := source_docs.stale_row(text):
        print(f"{source_docs.README_FILE.name} is stale ({stale}): run `observatoire docs --write`.", file=sys.stderr)
        return 1
    print(f"{source_docs.README_FILE.name} matches the registry")
    return 0


def _template(args) -> int:
    """Write a région's workbook for an annual campaign (with the national figures the warehouse knows), or with
    --paqte a département's PAQTE semestrial report (with the context the warehouse knows)."""
    if args.paqte:
        return _paqte_template(args)
    if not args.region or args.campaign is None:
        raise UsageError("give --region and --campaign (or --paqte with --departement and --semester).")
    from etl.submissions import template

    national = None
    if not args.no_warehouse:
        from etl import warehouse
        from etl.warehouse.template_context import national_values

        national = _or_no_warehouse(lambda: national_values(warehouse.engine(), args.region))
    try:
        path = template.write_template(args.out, args.region, args.campaign, national_values=national)
    except ValueError as exc:
        raise ObservatoireError(str(exc)) from None
    print(f"template for région {args.region}, campaign {args.campaign}: {path}")
    return 0


def _paqte_template(args) -> int:
    if not args.departement or not args.semester:
        raise UsageError("--paqte needs --departement and --semester (e.g. --departement 69 --semester 2024-S1).")
    from etl.submissions import paqte

    context = None
    try:
        if not args.no_warehouse:
            from etl import warehouse
            from etl.warehouse.template_context import paqte_context

            context = _or_no_warehouse(lambda: paqte_context(warehouse.engine(), args.departement, args.semester))
        path = paqte.write_paqte_template(args.out, args.departement, args.semester, context=context)
    except ValueError as exc:
        raise ObservatoireError(str(exc)) from None
    print(f"PAQTE report template for département {args.departement}, semester {args.semester}: {path}")
    return 0


def _or_no_warehouse(read, then: str = ""):
    """`read()`, its failure told with the way around it: `--no-warehouse` (and `then`, what that changes)."""
    try:
        return read()
    except ObservatoireError as exc:
        raise ObservatoireError(f"{exc} Or pass --no-warehouse{then}.") from None


class UsageError(ObservatoireError):
    """A command called wrongly (a missing file, a bad option): exit code 2, as argparse's own usage errors."""

    exit_code = 2


def _submissions(args) -> int:
    if args.action == "check":
        return _submissions_check(args)
    return _submissions_status(args)


def _submissions_check(args) -> int:
    """Print the verdict on a workbook: exit 0 accepted (warnings allowed), 1 rejected, 2 usage error."""
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{args.file}: no such file (give the path of the .xlsx workbook to check).")
    if args.paqte or path.name.lower().startswith("paqte"):
        if args.region or args.campaign:
            raise UsageError("a PAQTE report is checked with --departement and --semester, not --region/--campaign.")
        from etl.submissions.paqte_check import check_paqte_file

        verdict = check_paqte_file(path, departement=args.departement, semester=args.semester)
    else:
        from etl.submissions.check import check_file

        engine = None
        if not args.no_warehouse:  # the QPV in force, for the counts of QPV
            from etl import warehouse

            engine = _or_no_warehouse(warehouse.engine, " (the counts of QPV are then not checked)")
        verdict = check_file(path, region=args.region, campaign=args.campaign, engine=engine)
    print(verdict.to_json() if args.json else verdict.text())
    return 0 if verdict.accepted else 1


def _submissions_status(args) -> int:
    """Print, for the 18 régions, the state of their workbook for a campaign (or, with --paqte, for the 101
    départements, the state of their PAQTE report for a semester)."""
    import datetime as dt

    import sqlalchemy as sa

    from etl import warehouse
    from etl.ops import campaigns as status

    if args.paqte != (args.semester is not None) or args.paqte == (args.campaign is not None):
        raise UsageError("give --campaign <year>, or --paqte --semester <2024-S1>.")
    try:
        if args.paqte:
            departements = status.paqte_status(warehouse.engine(), args.semester)
            if departements.empty:
                raise UsageError(
                    f"semester {args.semester!r} is not a PAQTE semester of the warehouse's periods (2018-S2 onwards, "
                    "written 2024-S1), or the départements are not loaded yet (run the referentiels DAG)."
                )
            print(status.format_status(departements, args.semester, dt.date.today(), kind="paqte"))
            return 0
        regions, unattributed = status.campaign_status(warehouse.engine(), args.campaign)
    except sa.exc.ProgrammingError:
        raise ObservatoireError("the warehouse has no submission tables yet: run `observatoire migrate`.") from None
    if regions.empty:
        raise UsageError(
            f"campaign {args.campaign} is not a year of the warehouse's periods, or the régions are not loaded yet "
            "(run the referentiels DAG)."
        )
    print(status.format_status(regions, args.campaign, dt.date.today(), unattributed=unattributed))
    return 0


def _portal(args) -> int:
    """Serve the regional portal (etl/portal/) until interrupted."""
    from etl.portal.app import serve

    if not _port_free(args.host, args.port):
        raise ObservatoireError(f"port {args.port} is already in use: choose another with --port.")
    print(f"portail régional : http://{args.host}:{args.port}/connexion (Ctrl-C pour l'arrêter)", flush=True)
    serve(args.host, args.port, forwarded_allow_ips=args.forwarded_allow_ips)
    return 0


def _users(args) -> int:
    """The portal's accounts: add (password from --password-file or standard input), disable, list."""
    from etl import warehouse
    from etl.portal import accounts

    engine = warehouse.engine()
    if args.action == "add":
        if sum(bool(x) for x in (args.region, args.departement, args.admin)) != 1:
            raise UsageError("give one of --region CODE, --departement CODE or --admin.")
        if args.password_file:
            try:
                password = Path(args.password_file).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise UsageError(f"{args.password_file}: cannot read the password file ({exc.strerror}).") from None
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        account = accounts.add(engine, args.login, password, region=args.region, departement=args.departement)
        print(f"account {account.login} created ({account.territory})")
    elif args.action == "disable":
        accounts.disable(engine, args.login)
        print(f"account {args.login} disabled, its sessions closed")
    else:
        for row in accounts.listing(engine):
            territory = (
                row["region_code"]
                and f"région {row['region_code']}"
                or (row["departement_code"] and f"département {row['departement_code']}")
                or "admin"
            )
            state = f"disabled {row['disabled_at']:%Y-%m-%d}" if row["disabled_at"] else "enabled"
            print(f"{row['login']}\t{territory}\t{state}")
    return 0


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _airflow(args) -> int:
    import shutil

    from etl import warehouse
    from etl.config import Home
    from etl.orchestration import environment
    from etl.warehouse import migrations

    home = Home.from_env()
    url = warehouse.url()
    migrations.migrate(warehouse.engine(url))
    env = environment.apply(home, url)
    argv = args.airflow_args or ["standalone"]
    if argv[0] == "standalone":
        port = int(os.environ.get("AIRFLOW__API__PORT", "8080"))
        if not _port_free(env["AIRFLOW__API__HOST"], port):
            raise ObservatoireError(
                f"port {port} is already in use: stop the program using it or set AIRFLOW__API__PORT to a free port."
            )
        # task processes reach the api-server's execution API there; Airflow's default assumes localhost:8080
        os.environ.setdefault(
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://{env['AIRFLOW__API__HOST']}:{port}/execution/"
        )
        print(environment.where_to_go(os.environ, port), flush=True)
    venv_bin = str(Path(sys.executable).parent)
    # `airflow standalone` starts its components as `airflow ...` subprocesses: they must be on PATH
    os.environ["PATH"] = os.pathsep.join([venv_bin, os.environ.get("PATH", "")])
    binary = shutil.which("airflow", path=venv_bin) or shutil.which("airflow")
    if binary is None:
        raise ObservatoireError("the airflow command is not installed in this environment: run `make install`.")
    os.execv(binary, [binary, *argv])
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="observatoire", description="Observatoire QPV data platform.")
    sub = parser.add_subparsers(dest="command", required=True)

    wh = sub.add_parser("warehouse", help="the PostgreSQL warehouse (embedded unless WAREHOUSE_URL is set)")
    wh.add_argument("action", choices=["start", "stop", "url", "status", "fingerprint"])
    wh.add_argument(
        "--portable",
        action="store_true",
        help="fingerprint: comparable between two warehouses built apart (batch ids as file digests, no times)",
    )
    wh.add_argument(
        "--show-password", action="store_true", help="url: print the password too (masked as *** by default)"
    )
    wh.set_defaults(func=_warehouse)

    sub.add_parser("migrate", help="apply pending warehouse migrations").set_defaults(func=_migrate)
    sub.add_parser("demo", help="run every DAG end to end through Airflow and summarise").set_defaults(func=_demo)

    bench = sub.add_parser("bench", help="measure ingest, parsing and BI query speed against same-run references")
    bench.add_argument("--rows", type=int, default=None, help="lines of the individual extract (default 6,000,000)")
    bench.add_argument("--runs", type=int, default=None, help="runs of the extract's COPY and ingest (default 3)")
    bench.add_argument("--months", type=int, default=None, help="months of aggregated DEFM files (1-84, default 12)")
    bench.add_argument("--json", default=None, help="also write the figures to this JSON file")
    bench.add_argument(
        "--only",
        default=None,
        choices=["secrecy", "bi", "load"],
        help="one piece alone (secrecy: no warehouse; load: the aggregated file, the 100-line batch, the task start)",
    )
    bench.add_argument("--no-scaling", action="store_true", help="skip the table of costs by input size")
    bench.add_argument("--bi-scale", type=int, default=None, help="times the BI rows under load (default 10)")
    bench.add_argument("--bi-clients", type=int, default=None, help="concurrent BI clients (default 16)")
    bench.add_argument("--bi-seconds", type=float, default=None, help="seconds of BI load (default 30)")
    bench.set_defaults(func=_bench)

    docs = sub.add_parser("docs", help="check the README's tables of the source DAGs against the registry")
    docs.add_argument("--write", action="store_true", help="rewrite them from the registry instead")
    docs.set_defaults(func=_docs)

    tpl = sub.add_parser(
        "template", help="write a région's Excel workbook for an annual campaign, or a PAQTE report (--paqte)"
    )
    tpl.add_argument("--region", help="INSEE région code, e.g. 84")
    tpl.add_argument("--campaign", type=int, help="campaign year, e.g. 2024")
    tpl.add_argument("--paqte", action="store_true", help="the PAQTE semestrial report of a département")
    tpl.add_argument("--departement", help="with --paqte: INSEE département code, e.g. 69")
    tpl.add_argument("--semester", help="with --paqte: the semester, e.g. 2024-S1")
    tpl.add_argument("--out", required=True, help="the .xlsx file to write")
    tpl.add_argument(
        "--no-warehouse", action="store_true", help="do not read the warehouse (national figures, PAQTE context empty)"
    )
    tpl.set_defaults(func=_template)

    subs = sub.add_parser(
        "submissions", help="regional workbooks and PAQTE reports: check one, or see who has sent what"
    )
    subs_actions = subs.add_subparsers(dest="action", required=True)
    check = subs_actions.add_parser("check", help="print the verdict on a workbook without loading it (exit 0/1/2)")
    check.add_argument("file", help="the .xlsx workbook")
    check.add_argument("--region", help="the région it must be for (default: the file name's R<code>_<year>)")
    check.add_argument("--campaign", type=int, help="the campaign it must be for (default: the file name's)")
    check.add_argument("--paqte", action="store_true", help="a PAQTE report (implied by a name starting with paqte)")
    check.add_argument("--departement", help="PAQTE: the département it must be for (default: the file name's)")
    check.add_argument("--semester", help="PAQTE: the semester it must be for (default: the file name's)")
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    check.add_argument(
        "--no-warehouse", action="store_true", help="do not read the warehouse (counts of QPV are then not checked)"
    )
    status = subs_actions.add_parser(
        "status", help="the 18 régions' state for a campaign, or (--paqte) the départements' for a semester"
    )
    status.add_argument("--campaign", type=int, help="campaign year, e.g. 2024")
    status.add_argument("--paqte", action="store_true", help="the PAQTE reports of the départements")
    status.add_argument("--semester", help="with --paqte: the semester, e.g. 2024-S1")
    subs.set_defaults(func=_submissions)

    portal = sub.add_parser("portal", help="serve the regional portal (officers log in, deposit, read verdicts)")
    portal.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    portal.add_argument("--port", type=int, default=8090, help="port (default 8090)")
    portal.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="behind an HTTPS reverse proxy: its address(es), whose X-Forwarded-Proto/For are trusted",
    )
    portal.set_defaults(func=_portal)

    users = sub.add_parser("users", help="the regional portal's accounts: add, disable, list")
    users_actions = users.add_subparsers(dest="action", required=True)
    add = users_actions.add_parser("add", help="create an account (password from --password-file or stdin)")
    add.add_argument("login")
    add.add_argument("--region", help="an officer of this région (e.g. 84)")
    add.add_argument("--departement", help="an officer of this département, for its PAQTE reports (e.g. 69)")
    add.add_argument("--admin", action="store_true", help="an administrator (the follow-up page)")
    add.add_argument("--password-file", help="a file whose first line is the password (default: standard input)")
    users_actions.add_parser("disable", help="disable an account and close its sessions").add_argument("login")
    users_actions.add_parser("list", help="list the accounts")
    users.set_defaults(func=_users)

    af = sub.add_parser("airflow", help="run an airflow command with the project's settings (default: standalone)")
    af.add_argument("airflow_args", nargs=argparse.REMAINDER)
    af.set_defaults(func=_airflow)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a failure prints one sentence on stderr, with any password it quotes masked."""
    from etl.warehouse.urls import redact_text

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ObservatoireError as exc:
        print(f"observatoire: error: {redact_text(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("observatoire: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("OBSERVATOIRE_DEBUG"):
            raise
        first_line = redact_text((str(exc).strip().splitlines() or [""])[0])
        print(
            f"observatoire: error: unexpected failure ({type(exc).__name__}: {first_line}); "
            "run again with OBSERVATOIRE_DEBUG=1 to see the traceback.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
