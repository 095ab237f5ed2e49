"""Operator command `python -m bot report`: the deflection report from the tracker store."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

FORMATS = ("table", "json", "html")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date invalide « {value} » (attendu : AAAA-MM-JJ)") from None


def add_report_command(sub: argparse._SubParsersAction) -> None:
    """Register `report` (its figures are imported when it runs)."""
    report = sub.add_parser("report", help="rapport de rétention : ce que l'assistant a réglé sans personne")
    report.add_argument("--since", type=_day, metavar="DATE", help="premier jour inclus, AAAA-MM-JJ (heure locale)")
    report.add_argument("--until", type=_day, metavar="DATE", help="dernier jour inclus, AAAA-MM-JJ (heure locale)")
    report.add_argument("--channel", choices=("web", "ivr"), help="seulement le web ou le téléphone")
    report.add_argument("--format", choices=FORMATS, default="table", help="table (défaut), json ou html")
    report.add_argument("--out", type=Path, metavar="FILE", help="fichier de sortie (défaut : la console ; var/report.html en html)")
    report.set_defaults(func=report_command)


def report_command(args: argparse.Namespace) -> int:
    from bot.analytics.figures import build_report, day_bounds
    from bot.analytics.html import to_html
    from bot.analytics.render import to_json, to_table
    from bot.analytics.store import TrackerStoreError, iter_sessions
    from bot.settings import get_settings

    settings = get_settings()
    if args.since and args.until and args.since > args.until:
        print("Erreur : --since est après --until.", file=sys.stderr)
        return 2
    tz = ZoneInfo(settings.timezone)
    since_ts, until_ts = day_bounds(args.since, args.until, tz)
    try:
        report = build_report(
            iter_sessions(settings.tracker_store_url, since_ts, until_ts), tz, args.since, args.until, args.channel
        )
    except TrackerStoreError as error:
        print(f"Erreur : impossible de lire le magasin des conversations ({error}).", file=sys.stderr)
        return 1
    text = {"table": to_table, "json": to_json, "html": to_html}[args.format](report)
    out = args.out or (settings.var_dir / "report.html" if args.format == "html" else None)
    if out is None:
        sys.stdout.write(text)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"Rapport écrit : {out}")
    return 0
