"""The report as a terminal table or as JSON; labels in the help desk's French."""
from __future__ import annotations

import json
from datetime import date

from bot.analytics.figures import Report
from bot.contract import FLOWS, HandoffReason

CHANNEL_LABELS = {"web": "Web (clavardage)", "ivr": "Téléphone (RVI)", "autre": "Autre"}
REASON_LABELS = {
    HandoffReason.REQUEST_HUMAN.value: "A demandé à parler à une personne",
    HandoffReason.REPEATED_FALLBACK.value: "Deux incompréhensions de suite",
    HandoffReason.LOCKED.value: "Compte ou tentatives bloqués",
    HandoffReason.REPEATED_INVALID_INPUT.value: "Réponses invalides répétées dans un parcours",
    HandoffReason.BACKEND_UNAVAILABLE.value: "Système des comptes indisponible",
    HandoffReason.UNCLEAR_SPEECH.value: "Parole mal comprise au téléphone (trois fois de suite)",
    HandoffReason.SILENCE.value: "Silence au téléphone (deux fois de suite)",
    HandoffReason.TECHNICAL_PROBLEM.value: "Problème technique (une partie du système ne répondait pas)",
}
FLOW_LABELS = {flow.form: flow.label for flow in FLOWS}
WEEKDAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
BAR_WIDTH = 30


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason)


def flow_label(name: str) -> str:
    return FLOW_LABELS.get(name, name)


def percent(rate: float | None) -> str:
    """A rate in French notation ("87,5 %"), or a dash when there is nothing to divide."""
    if rate is None:
        return "–"
    return f"{rate * 100:.1f}".replace(".", ",") + "\u00a0%"


def period_label(report: Report) -> str:
    if report.since and report.until:
        period = f"du {report.since.isoformat()} au {report.until.isoformat()}"
    elif report.since:
        period = f"depuis le {report.since.isoformat()}"
    elif report.until:
        period = f"jusqu'au {report.until.isoformat()}"
    else:
        period = "toute la période"
    channel = CHANNEL_LABELS[report.channel] if report.channel else "tous les canaux"
    return f"Période : {period}, {channel} (fuseau {report.timezone})"


def _section(title: str, rows: list[tuple[str, ...]], headers: tuple[str, ...]) -> list[str]:
    lines = ["", title, "-" * len(title)]
    if not rows:
        return [*lines, "(aucune donnée)"]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: tuple[str, ...]) -> str:
        out = []
        for cell, width in zip(cells, widths, strict=False):
            text = str(cell)
            out.append(text.rjust(width) if text[:1].isdigit() or text == "–" else text.ljust(width))
        return "  ".join(out).rstrip()

    return [*lines, line(headers), line(tuple("-" * width for width in widths)), *(line(row) for row in rows)]


def _bar(count: int, largest: int) -> str:
    return "█" * max(1 if count else 0, round(BAR_WIDTH * count / largest)) if largest else ""


def to_table(report: Report) -> str:
    """The report as plain text that reads well in an 80-column terminal."""
    lines = [
        "Rapport de l'assistant des inscriptions en ligne",
        period_label(report),
    ]
    lines += _section(
        "Vue d'ensemble",
        [
            ("Conversations", str(report.conversations)),
            ("Messages des citoyens", str(report.user_messages)),
            ("Réponses de l'assistant", str(report.bot_messages)),
            ("Réglées sans personne (rétention)", f"{report.contained} ({percent(report.containment_rate)})"),
            ("Transférées à une personne", f"{report.escalated} ({percent(report.escalation_rate)})"),
            ("Messages non compris", f"{report.fallback_messages} ({percent(report.fallback_rate)})"),
        ],
        ("Indicateur", "Valeur"),
    )
    lines += _section(
        "Conversations par canal",
        [(CHANNEL_LABELS[name], str(count)) for name, count in report.channels.items()],
        ("Canal", "Conversations"),
    )
    lines += _section(
        "Raisons des transferts",
        [(reason_label(reason), str(count)) for reason, count in report.escalation_reasons],
        ("Raison", "Conversations"),
    )
    lines += _section(
        "Intentions les plus fréquentes",
        [(intent, str(count)) for intent, count in report.intents],
        ("Intention", "Messages"),
    )
    lines += _section(
        "Parcours guidés",
        [
            (
                flow_label(flow.name),
                str(flow.started),
                str(flow.completed),
                percent(flow.completed / flow.started if flow.started else None),
            )
            for flow in report.flows
        ],
        ("Parcours", "Commencés", "Terminés", "Taux"),
    )
    largest = max(report.hours)
    lines += _section(
        "Heures les plus achalandées",
        [(f"{hour:02d} h", str(count), _bar(count, largest)) for hour, count in enumerate(report.hours) if count],
        ("Heure", "Messages", ""),
    )
    lines += _section(
        "Volume par jour",
        [
            (day.day.isoformat(), str(day.conversations), str(day.messages),
             percent(day.contained / day.conversations if day.conversations else None))
            for day in report.days
        ],
        ("Jour", "Conversations", "Messages", "Rétention"),
    )
    lines += _section(
        "Messages non compris les plus fréquents (données personnelles masquées)",
        [(str(count), text) for text, count in report.not_understood],
        ("Nombre", "Message"),
    )
    lines += _section(
        "Transferts consignés",
        [
            (
                handoff.time.strftime("%Y-%m-%d %H:%M"),
                CHANNEL_LABELS[handoff.channel],
                reason_label(handoff.reason),
                handoff.topic or "–",
                ", ".join(handoff.tried) or "–",
            )
            for handoff in report.handoffs
        ],
        ("Quand", "Canal", "Raison", "Sujet", "Déjà essayé"),
    )
    return "\n".join(lines) + "\n"


def to_dict(report: Report) -> dict:
    """The report as JSON-ready data: counts, rates between 0 and 1, local ISO dates."""

    def iso(value: date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "period": {"since": iso(report.since), "until": iso(report.until), "timezone": report.timezone},
        "channel": report.channel,
        "conversations": report.conversations,
        "user_messages": report.user_messages,
        "bot_messages": report.bot_messages,
        "contained": report.contained,
        "escalated": report.escalated,
        "containment_rate": report.containment_rate,
        "escalation_rate": report.escalation_rate,
        "fallback_messages": report.fallback_messages,
        "fallback_rate": report.fallback_rate,
        "channels": report.channels,
        "escalation_reasons": [{"reason": reason, "conversations": count} for reason, count in report.escalation_reasons],
        "intents": [{"intent": intent, "messages": count} for intent, count in report.intents],
        "flows": [
            {"flow": flow.name, "started": flow.started, "completed": flow.completed} for flow in report.flows
        ],
        "hours": report.hours,
        "busiest_hours": [{"hour": hour, "messages": count} for hour, count in report.busiest_hours],
        "heatmap": {"weekdays": list(WEEKDAYS), "messages": report.heatmap},
        "days": [
            {"day": day.day.isoformat(), "conversations": day.conversations, "messages": day.messages,
             "contained": day.contained}
            for day in report.days
        ],
        "not_understood": [{"text": text, "count": count} for text, count in report.not_understood],
        "handoffs": [
            {"time": handoff.time.isoformat(), "channel": handoff.channel, "reason": handoff.reason,
             "topic": handoff.topic, "tried": handoff.tried}
            for handoff in report.handoffs
        ],
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2) + "\n"
