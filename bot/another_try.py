"""Another try: right after a flow ended on a result that another value may change, a message that holds
a value of that kind starts the flow again with it, in the same turn.

"Je ne trouve pas de compte avec cette adresse courriel" then "je me suis trompé, c'est jean.gagnon@…";
a password that misses the symbol rule then "non attends je l'avais écrit Soleil2024!". The model reads
such a message as anything (off-topic, not understood, details, a no, a yes): what it holds decides, unless
it clearly asks another question of the guide. The flows that end this way and the action that starts
each again are declared in the conversation contract (`bot.contract.ANOTHER_TRIES`); the flow's end sets
`bot.contract.ANOTHER_TRY_SLOT`, and the dialogue policy of `bot.another_try_policy` asks here what to do.
"""
from __future__ import annotations

from datetime import date

from bot.contract import NOT_TOPICS, TOPIC_CONFIDENCE, AnotherTry, Kind, another_try
from bot.policy.details import find_details
from bot.policy.password import extract_candidate


def value_of(kind: Kind, text: str, today: date) -> str | None:
    """The value of ``kind`` that ``text`` holds, read as the flow reads it, or None.

    A password is any token the password check would read; the other kinds are the details read without
    doubt (`bot.policy.details`), as the forms take them at activation.
    """
    if kind is Kind.PASSWORD:
        return extract_candidate(text)
    details = find_details(text, today)
    if kind is Kind.DATE:
        return details.birth_date.isoformat() if details.birth_date else None
    by_kind = {Kind.CARD: details.card, Kind.PHONE: details.phone, Kind.EMAIL: details.email}
    return by_kind.get(kind)


def asks_another_question(flow: AnotherTry, intent: str | None, confidence: float) -> bool:
    """Whether the model read the message as clearly another question of the guide than the flow's own."""
    return (
        intent is not None and intent not in NOT_TOPICS and intent not in flow.intents
        and confidence >= TOPIC_CONFIDENCE
    )


def restart(offered: object, intent: str | None, confidence: float, text: str, today: date) -> str | None:
    """The action that starts the offered flow again with the value of ``text``, or None.

    ``offered``: the value of `bot.contract.ANOTHER_TRY_SLOT` when the message came (the flow that just
    ended); ``intent`` and ``confidence``: the model's reading of the message; ``text``: the message as the
    model read it (speech transcripts written out: "jean point gagnon arobase example point com").
    """
    flow = another_try(offered)
    if flow is None or asks_another_question(flow, intent, confidence):
        return None
    return flow.restart if value_of(flow.kind, text, today) else None
