"""Several things in one message: "Bonjour, comment je crée un compte? Pis c'est quoi les règles du mot de passe?"

The model gives one intent a message. A citizen who greets and asks, or asks two questions at once,
should get the answer to each: the message is cut into clauses (after a greeting, at a question mark,
at "et aussi", "pis aussi", "ensuite" ...), and when two or more clauses are each a clear question of
the guide (`TOPIC_CONFIDENCE`), each is handled in turn as its own message of the same conversation,
with the same metadata and channel; the replies follow one another. A greeting or details with one question keep
the whole message (its details) with the question's intent: "246810, née le 21 juillet 1990, elle
expire quand?" is a question about the card, not details alone. Every other message is handled as
Rasa does, with the one parse made here; only messages that split, or that hold details and were read
as details only, are parsed more than once.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from rasa.core.channels.channel import UserMessage

from bot.contract import NOT_TOPICS, PERSONAL_ENTITIES, TOPIC_CONFIDENCE
from bot.policy.details import details_and_rest
from bot.settings import city_today

# Intents the model gives a message that holds details; its purpose may still be in the rest of it.
DETAILS_ONLY = frozenset({"inform", "nlu_fallback", "out_of_scope"})
MAX_QUESTIONS = 3
MIN_CLAUSE_WORDS = 2

_GREETING_WORDS = r"bonjour|bonsoir|bon matin|allo|allô|salut|hello|coucou|bonne journée"
# A greeting, with the fillers around it ("oui allô bonjour madame, ...").
_GREETING = re.compile(
    rf"^\s*(?:(?:oui|ben|euh|eh|hey|{_GREETING_WORDS}|madame|monsieur|là)\b[\s,!.:-]*)+",
    re.IGNORECASE,
)
_QUESTION_WORD = (
    r"comment|c'est quoi|c quoi|quand|où|ou est|combien|pourquoi|est-ce|qu'est-ce|quel|quelle|quels|quelles|"
    r"à quoi|a quoi|qui|je veux|j'aimerais|je voudrais|mon |ma |mes "
)
_SEPARATOR = re.compile(
    r"\?+\s*|[.;]\s+|,\s*|\s+\b(?:et aussi|pis aussi|puis aussi|et puis aussi|ensuite|autre question|"
    r"deuxième question|aussi je voudrais|aussi j'aimerais|et également)\b\s*[,:]?\s*"
    rf"|\s+\b(?:pis|et|puis)\s+(?=(?:{_QUESTION_WORD}))",
    re.IGNORECASE,
)


def clauses(text: str) -> list[str]:
    """The parts of ``text`` that may each be a question: after a greeting, between separators."""
    text = text or ""
    greeting = _GREETING.match(text)
    rest = text[greeting.end():] if greeting and re.search(_GREETING_WORDS, greeting.group(), re.I) else text
    parts = [part.strip(" ,.;:!-") for part in _SEPARATOR.split(rest)]
    parts = [part for part in parts if _words(part) >= MIN_CLAUSE_WORDS]
    if parts and (rest != text or len(parts) > 1):
        return parts
    return [text.strip()]


def questions(parsed: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The clauses that are each a clear question of the guide, one per topic, in order."""
    kept: list[str] = []
    seen: set[str] = set()
    for clause, parse in parsed:
        if _has_details(parse) and _words(_INTRODUCERS.sub(" ", details_and_rest(clause, city_today())[1])) < 3:
            continue  # "carte 123456, née 12/03/1985": details, not a question
        intent = parse.get("intent") or {}
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0)
        if name and name not in NOT_TOPICS and confidence >= TOPIC_CONFIDENCE and name not in seen:
            seen.add(name)
            kept.append(clause)
    return kept[:MAX_QUESTIONS]


Handler = Callable[..., Awaitable[Any]]


def install(agent: Any) -> None:
    """Wrap the agent's ``handle_message`` (every channel's way in) once, so several questions each get an answer."""
    if agent is None or getattr(agent, "_several_questions", False):
        return
    agent._several_questions = True
    original: Handler = agent.handle_message

    async def handle_message(message: UserMessage, *args: Any, **kwargs: Any) -> Any:
        text = message.text or ""
        if message.parse_data or text.startswith("/") or not agent.is_ready():
            return await original(message, *args, **kwargs)
        whole = await agent.parse_message(text)
        parts = clauses(text)
        if parts != [text.strip()]:
            parsed = {part: await agent.parse_message(part) for part in parts}
            asked = questions(list(parsed.items()))
            if len(asked) >= 2:  # each question in turn, as its own message; the details go with the first
                result = None
                for number, part in enumerate(asked):
                    parse = _with_details_of(parsed[part], whole) if number == 0 else parsed[part]
                    result = await original(_again(message, part, parse), *args, **kwargs)
                return _once(message.output_channel, result)
            if len(asked) == 1 and _clearer(parsed[asked[0]], whole):
                whole = _with_intent_of(whole, parsed[asked[0]])
        if _intent(whole) in DETAILS_ONLY and _has_details(whole):
            # "246810 21 juillet 1990 quand expire ma carte": read as details only, yet a purpose is there.
            rest = _INTRODUCERS.sub(" ", details_and_rest(text, city_today())[1])
            if _words(rest) >= MIN_CLAUSE_WORDS:
                purpose = await agent.parse_message(rest)
                if questions([(rest, purpose)]):
                    whole = _with_intent_of(whole, purpose)
        return await original(_again(message, text, whole), *args, **kwargs)

    agent.handle_message = handle_message


def _intent(parse: dict[str, Any]) -> str | None:
    return (parse.get("intent") or {}).get("name")


def _has_details(parse: dict[str, Any]) -> bool:
    return any(entity.get("entity") in PERSONAL_ENTITIES for entity in parse.get("entities") or [])


# Words that introduce a detail ("ma date de naissance c'est le ..."): once the details are out, what is
# left of them would only make the purpose read as details again.
_INTRODUCERS = re.compile(
    r"\b(?:ma date de naissance|date de naissance|n[ée]e? le|mon num[ée]ro de (?:carte|t[ée]l[ée]phone)|"
    r"mon (?:t[ée]l[ée]phone|tel|courriel|adresse courriel)|c'?est le|c'?est|euh|pis|oui|bonjour|allo)\b",
    re.IGNORECASE,
)


def _once(channel: Any, result: Any) -> Any:
    """The replies of several questions handled in turn, each said once: a form's "Reprenons : ..." after
    each answer is said after the last one only (channels that collect the replies: REST, the phone)."""
    if not isinstance(result, list) or getattr(channel, "messages", None) is not result:
        return result
    replies = cast(list[Any], result)
    replies[:] = [reply for position, reply in enumerate(replies) if reply not in replies[position + 1:]]
    return replies


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _clearer(question: dict[str, Any], whole: dict[str, Any]) -> bool:
    """Whether a clause's question says the purpose better than the whole message's reading."""
    confidence = float((whole.get("intent") or {}).get("confidence") or 0)
    return _intent(whole) in NOT_TOPICS or float(question["intent"].get("confidence") or 0) > confidence


def _with_details_of(parse: dict[str, Any], whole: dict[str, Any]) -> dict[str, Any]:
    """A clause's parse with the details of the whole message (given in another clause)."""
    details = [e for e in whole.get("entities") or [] if e.get("entity") in PERSONAL_ENTITIES]
    others = [e for e in parse.get("entities") or [] if e.get("entity") not in PERSONAL_ENTITIES]
    return {**parse, "entities": others + details}


def _with_intent_of(whole: dict[str, Any], question: dict[str, Any]) -> dict[str, Any]:
    """The whole message's parse (its text and details) with the question's intent."""
    return {**whole, "intent": question["intent"], "intent_ranking": question.get("intent_ranking", [])}



def _again(message: UserMessage, text: str, parse_data: dict[str, Any]) -> UserMessage:
    """``message`` with another text (one of its clauses) and the parse of that text."""
    return UserMessage(
        text, message.output_channel, message.sender_id, parse_data=parse_data, input_channel=message.input_channel,
        message_id=message.message_id if text == message.text else uuid.uuid4().hex, metadata=message.metadata,
    )
