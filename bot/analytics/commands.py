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


WHY_LABELS = {"not_understood": "non compris", "off_topic": "répondu hors sujet",
              "low_confidence": "compris avec peu de confiance",
              "rated_no": "suivi d'un « non »"}


def add_review_command(sub: argparse._SubParsersAction) -> None:
    """Register `review`: the help desk's inbox of messages to review (bot/analytics/review.py)."""
    review = sub.add_parser("review", help="boîte de révision : messages non compris, peu sûrs ou suivis d'un « non »")
    review.add_argument("--since", type=_day, metavar="DATE", help="premier jour inclus, AAAA-MM-JJ (heure locale)")
    review.add_argument("--format", choices=("table", "json"), default="table")
    decide = review.add_mutually_exclusive_group()
    decide.add_argument("--assign", nargs=2, metavar=("CLE", "INTENTION"), help="associer le groupe à une intention")
    decide.add_argument("--off-topic", metavar="CLE", help="marquer le groupe hors sujet (out_of_scope)")
    decide.add_argument("--new-answer", metavar="CLE", help="marquer le groupe : une nouvelle réponse est à écrire")
    decide.add_argument("--write", action="store_true",
                        help="écrire les exemples révisés dans data/nlu/reviewed.yml (après la vérification)")
    review.add_argument("--out", type=Path, metavar="FICHIER",
                        help="avec --write : fichier écrit (défaut : data/nlu/reviewed.yml du projet)")
    review.set_defaults(func=review_command)


def review_command(args: argparse.Namespace) -> int:
    import json

    from bot.analytics import review
    from bot.analytics.figures import day_bounds
    from bot.analytics.store import TrackerStoreError, iter_sessions
    from bot.settings import PROJECT_ROOT, get_settings

    settings = get_settings()
    path = review.decisions_path(settings.var_dir)
    decisions = review.load_decisions(path)
    if args.write:
        out = args.out or PROJECT_ROOT / "data" / "nlu" / "reviewed.yml"
        result = review.write_reviewed(decisions, out)
        for name, examples in sorted(result.written.items()):
            print(f"{name} : {len(examples)} exemple(s) ajouté(s)")
        for example, reason in result.refused:
            print(f"Refusé « {example} » : {reason}", file=sys.stderr)
        print(f"Écrit : {out} (make train l'utilisera)")
        return 1 if result.refused else 0
    since_ts, _ = day_bounds(args.since, None, ZoneInfo(settings.timezone))
    try:
        groups = review.group(review.candidates(iter_sessions(settings.tracker_store_url, since_ts)))
    except TrackerStoreError as error:
        print(f"Erreur : impossible de lire le magasin des conversations ({error}).", file=sys.stderr)
        return 1
    chosen = args.assign[0] if args.assign else args.off_topic or args.new_answer
    if chosen:
        item = next((g for g in groups if g.key == chosen), None)
        if item is None:
            print(f"Erreur : aucun groupe « {chosen} » dans la boîte.", file=sys.stderr)
            return 2
        decision = review.Decision.NEW_ANSWER if args.new_answer else review.Decision.INTENT
        intent: str | None = args.assign[1] if args.assign else (review.OUT_OF_SCOPE if args.off_topic else None)
        try:
            review.decide(path, item, decision, intent, review.trainable_intents(PROJECT_ROOT / "domain.yml"))
        except review.ReviewError:
            print(f"Erreur : « {intent} » n'est pas une intention de l'assistant.", file=sys.stderr)
            return 2
        print(f"Groupe {chosen} ({item.count} message(s)) : {intent or 'nouvelle réponse à écrire'}")
        return 0
    pending = review.inbox(groups, decisions)
    if args.format == "json":
        print(json.dumps([g.as_dict() for g in pending], ensure_ascii=False, indent=2))
        return 0
    print(f"Boîte de révision : {len(pending)} groupe(s) à réviser, {len(decisions)} décision(s) prise(s)")
    for item in pending:
        why = ", ".join(f"{WHY_LABELS.get(name, name)} {count}" for name, count in item.why.most_common())
        print(f"\n[{item.key}] {item.count} × « {item.text} »  ({why})")
        for other in list(item.texts)[1:5]:
            print(f"    aussi : « {other} »")
    if pending:
        print("\nDécider : --assign CLE INTENTION, --off-topic CLE ou --new-answer CLE ; puis --write.")
    return 0
