"""The report as a terminal table or as JSON; labels in the help desk's French."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from bot.analytics.figures import Helpfulness, Report
from bot.contract import FLOWS, HandoffReason
from bot.feedback import FeedbackReason

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
# What a citizen asked about (an intent, or a handoff topic), in the help desk's words.
TOPIC_LABELS = {
    "ask_create_account": "Créer un compte",
    "email_confirmation_missing": "Courriel de confirmation non reçu",
    "login_problem": "Problème de connexion",
    "ask_password_rules": "Règles du mot de passe",
    "password_rejected": "Mot de passe refusé",
    "forgot_password": "Mot de passe oublié",
    "link_card": "Lier la Carte Accès Terrebonne",
    "no_card": "Pas de Carte Accès Terrebonne",
    "ask_card_expiry": "Expiration de la carte",
    "ask_card_renewal": "Renouvellement de la carte",
    "ask_family_file": "Dossier familial",
    "ask_profile": "Profil du citoyen",
    "ask_amount_due": "Montant dû",
    "ask_registrations": "Inscriptions aux activités",
    "request_human": "Parler à une personne",
    "ask_contact": "Joindre le centre d'appels",
    "ask_hours": "Heures d'ouverture",
    "ask_in_person": "Service en personne",
    "identify": "Identification",
    "autre": "Autre",
}
# The assistant's answers, by the question they answer (what "déjà essayé" lists).
ANSWER_TOPICS = {
    "utter_create_account": "ask_create_account", "utter_email_confirmation_missing": "email_confirmation_missing",
    "utter_login": "login_problem", "utter_password_rules": "ask_password_rules",
    "utter_password_rejected": "password_rejected", "action_check_password": "password_rejected",
    "utter_forgot_password": "forgot_password", "utter_link_card": "link_card", "utter_link_card_child": "link_card",
    "utter_no_card": "no_card", "utter_card_expiry": "ask_card_expiry", "action_card_expiry": "ask_card_expiry",
    "utter_card_expiry_family": "ask_card_expiry", "utter_card_renewal": "ask_card_renewal",
    "utter_family_file": "ask_family_file", "utter_family_children": "ask_family_file", "utter_profile": "ask_profile",
    "action_profile": "ask_profile", "utter_amount_due": "ask_amount_due", "action_amount_due": "ask_amount_due",
    "utter_registrations": "ask_registrations", "action_registrations": "ask_registrations",
    "utter_contact": "ask_contact", "utter_hours": "ask_hours", "action_hours_now": "ask_hours",
    "utter_in_person": "ask_in_person",
}  # fmt: skip
STEP_LABELS = {
    "utter_default": "Message non compris (demande de reformuler)",
    "utter_fallback_call_centre": "Message non compris (coordonnées du centre d'appels)",
    "utter_out_of_scope": "Question hors sujet",
    "utter_greet": "Salutation",
    "utter_inform_received": "Renseignements donnés hors d'un parcours",
    "action_identification_declined": "Identification refusée",
    "action_escalate": "Transfert à une personne",
}
FEEDBACK_REASON_LABELS = {
    FeedbackReason.WRONG_ANSWER.value: "Pas la bonne réponse",
    FeedbackReason.UNCLEAR.value: "Pas clair",
    FeedbackReason.STILL_NEED_CALL.value: "Je dois quand même appeler",
}
WEEKDAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
BAR_WIDTH = 30


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason)


def flow_label(name: str) -> str:
    return FLOW_LABELS.get(name, name)


def topic_label(name: str | None) -> str:
    """A topic (an intent, a flow's form or a handoff topic) in the help desk's words."""
    if not name:
        return "–"
    return TOPIC_LABELS.get(name) or FLOW_LABELS.get(name) or name


def step_label(name: str) -> str:
    """Something the assistant already tried (a response, an action, a flow), in the help desk's words."""
    for item in FLOWS:
        asks = {f"action_ask_{slot.name}" for slot in item.slots} | {slot.ask for slot in item.slots}
        if name in {item.form, item.submit, item.validation} | asks:
            return f"Parcours « {item.label} »"
    if name in ANSWER_TOPICS:
        return f"Réponse « {topic_label(ANSWER_TOPICS[name])} »"
    return STEP_LABELS.get(name, name)


def tried_label(tried: list[str]) -> str:
    """What was already tried, in the help desk's words, each step once."""
    return ", ".join(dict.fromkeys(step_label(step) for step in tried)) or "–"


def feedback_reason_label(reason: str) -> str:
    return FEEDBACK_REASON_LABELS.get(reason, reason)


def helpful_rows(groups: list[Helpfulness], label: Callable[[str], object] | None) -> list[tuple[str, ...]]:
    """Rows of answers (name, answers, oui, non, share helped), the key named by ``label``."""
    return [(str(label(g.key) if label else g.key), str(g.answers), str(g.yes), str(g.no), percent(g.rate))
            for g in groups]


HELPFUL_HEADERS = ("Réponses", "Oui", "Non", "Aidé")


def feedback_tables(report: Report) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]]:
    """The feedback's tables (title, headers, rows), shared by the terminal and the HTML page."""
    calls = sum(1 for record in report.feedback if record.reason == FeedbackReason.STILL_NEED_CALL.value)
    return [
        ("Est-ce que cela vous a aidé (réponses des citoyens)", ("Indicateur", "Valeur"), [
            ("Réponses des citoyens", str(len(report.feedback))),
            ("Aidés (oui)", percent(report.helpful_rate)),
            ("Je dois quand même appeler (part des réponses)", f"{calls} ({percent(report.still_need_call_rate)})"),
        ]),
        ("Aide par sujet", ("Sujet", *HELPFUL_HEADERS), helpful_rows(report.helpful_by("topic"), topic_label)),
        ("Aide par canal", ("Canal", *HELPFUL_HEADERS), helpful_rows(report.helpful_by("channel"), CHANNEL_LABELS.get)),
        ("Aide par jour", ("Jour", *HELPFUL_HEADERS), helpful_rows(report.helpful_by("day"), None)),
        ("Sujets avec le plus de non", ("Sujet", *HELPFUL_HEADERS), helpful_rows(report.topics_most_no, topic_label)),
        ("Raisons des « non »", ("Raison", "Réponses"),
         [(feedback_reason_label(reason), str(count)) for reason, count in report.reasons]),
    ]


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
                topic_label(handoff.topic),
                tried_label(handoff.tried),
            )
            for handoff in report.handoffs
        ],
        ("Quand", "Canal", "Raison", "Sujet", "Déjà essayé"),
    )
    lines += feedback_sections(report)
    return "\n".join(lines) + "\n"


def feedback_sections(report: Report) -> list[str]:
    """"Est-ce que cela vous a aidé?": overall, by topic, channel and day, the topics with most "non", reasons."""
    lines: list[str] = []
    for title, headers, rows in feedback_tables(report):
        lines += _section(title, rows, headers)
    return lines


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
             "topic": handoff.topic, "topic_label": topic_label(handoff.topic), "tried": handoff.tried,
             "tried_labels": list(dict.fromkeys(step_label(step) for step in handoff.tried))}
            for handoff in report.handoffs
        ],
        "feedback": {
            "answers": len(report.feedback),
            "helpful_rate": report.helpful_rate,
            "still_need_call_rate": report.still_need_call_rate,
            "reasons": [{"reason": reason, "answers": count} for reason, count in report.reasons],
            **{f"by_{what}": [{what: g.key, "yes": g.yes, "no": g.no, "helpful_rate": g.rate}
                              for g in report.helpful_by(what)] for what in ("topic", "channel", "day")},
            "topics_most_no": [{"topic": g.key, "label": topic_label(g.key), "no": g.no, "answers": g.answers}
                               for g in report.topics_most_no],
        },
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2) + "\n"
