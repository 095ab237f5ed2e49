"""The conversation suite's loading, checks and report, without a server (the run itself is tests/e2e)."""
from __future__ import annotations

from itertools import product

import pytest
import yaml

from bot.identity import verify_token
from bot.tools.conversations import (
    BEHAVIOURS,
    Conversation,
    ConversationState,
    Outcome,
    Runner,
    SuiteError,
    Turn,
    TurnFailure,
    check_turn,
    conversation_id,
    load_suite,
    load_text,
    matches,
    render,
    summary,
)

GOOD = """
- name: expiry-offer-answered-with-digits
  behaviour: implicit_answer
  flow: identify_card_expiry
  person: not_expected
  turns:
    - user: "ma carte expire quand"
      must: ["Voulez-vous vous identifier"]
    - user: "123456"
      must: ["date de naissance", "/six \\\\(?6\\\\)?/"]
      must_not: ["dites-moi d'abord"]
- name: phone-keypad
  behaviour: information_whenever
  flow: link_card
  person: expected
  channel: ivr
  linked: [marie]
  turns:
    - digits: "123456#"
      must: ["date"]
    - user: "allo"
      channel: rest
      token: forged
      must_not: ["Marie"]
"""


def test_a_suite_file_is_read_with_its_defaults():
    first, second = load_text(GOOD, "good.yml")
    assert first.name == "expiry-offer-answered-with-digits" and first.source == "good.yml"
    assert first.turns[0] == Turn("ma carte expire quand", "rest", must=("Voulez-vous vous identifier",))
    assert first.turns[1].must == ("date de naissance", "/six \\(?6\\)?/")
    assert not first.person_expected and second.person_expected
    assert second.turns[0].channel == "ivr" and second.turns[0].digits == "123456#" and second.turns[0].user == ""
    assert second.turns[1].channel == "rest" and second.turns[1].token == "forged"
    assert second.linked == ("marie",)


BASE = {"name": "x", "behaviour": "correction", "flow": "link_card", "person": "not_expected"}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"behaviour": "vibes"}, "behaviour"),
        ({"flow": "pizza"}, "flow"),
        ({"person": "maybe"}, "person"),
        ({"name": "Has Spaces"}, "name"),
        ({"colour": "blue"}, "unknown keys"),
        ({"linked": ["sophie"]}, "linked"),
        ({"turns": []}, "turns"),
        ({"turns": [{"user": "allo"}]}, "no turn checks anything"),
        ({"turns": [{"user": "allo", "must": ["x"], "channel": "fax"}]}, "channel"),
        ({"turns": [{"user": "allo", "must": ["x"], "token": "bob"}]}, "token"),
        ({"turns": [{"user": "allo", "must": ["x"], "token": "marie", "channel": "ivr"}]}, "web channels"),
        ({"turns": [{"user": "allo", "must": ["x"], "digits": "12"}]}, "keypad"),
        ({"turns": [{"user": "", "must": ["x"]}]}, "required"),
        ({"turns": [{"user": "allo", "must": ["/(unclosed/"]}]}, "bad regex"),
        ({"turns": [{"user": "allo", "must": [3]}]}, "strings"),
        ({"turns": [{"user": "allo", "must": ["x"], "say": "hi"}]}, "unknown keys"),
    ],
)
def test_a_broken_conversation_is_refused_with_where_and_why(change, message):
    import yaml

    raw = {**BASE, "turns": [{"user": "allo", "must": ["x"]}], **change}
    with pytest.raises(SuiteError, match=message):
        load_text(yaml.safe_dump([raw]), "broken.yml")


def test_a_known_gap_keeps_its_reason_and_the_conversation_its_checks():
    raw = yaml.safe_load(GOOD)[0]
    raw["known_gap"] = "  the model reads the phrasing as another topic "
    (conversation,) = load_text(yaml.safe_dump([raw]), "gap.yml")
    assert conversation.known_gap == "the model reads the phrasing as another topic"
    assert conversation.turns[1].must_not == ("dites-moi d'abord",)
    assert load_text(GOOD, "good.yml")[0].known_gap == ""
    raw["known_gap"] = ["not", "text"]
    with pytest.raises(SuiteError, match="known_gap"):
        load_text(yaml.safe_dump([raw]), "gap.yml")


def test_not_yaml_and_not_a_list_are_refused():
    with pytest.raises(SuiteError, match="not YAML"):
        load_text("- name: [unclosed", "a.yml")
    with pytest.raises(SuiteError, match="list of conversations"):
        load_text("name: x", "b.yml")


def test_a_name_used_twice_in_a_suite_is_refused(tmp_path):
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(GOOD)
    with pytest.raises(SuiteError, match="used twice"):
        load_suite(tmp_path)


def test_expectations_are_case_insensitive_substrings_or_regexes():
    assert matches("VOUS êtes identifié", "Merci, vous êtes   identifié pour cette conversation.")
    assert not matches("identifiée", "vous êtes identifié")
    assert matches("/31 mars 20\\d\\d/", "- Marie : carte valide jusqu'au 31 mars 2027.")
    assert not matches("/^Marie/", "- Marie")


def run_turns(turns: list[tuple[str, list[str]]], by_token: bool = False) -> list[list[str]]:
    state = ConversationState()
    return [check_turn(Turn(user, "rest"), messages, state, by_token) for user, messages in turns]


def test_the_turns_own_checks():
    turn = Turn("combien je dois", "rest", must=("Voulez-vous", "/Mon profil/"), must_not=("45,00",))
    assert check_turn(turn, ["Cliquez sur Mon profil. Voulez-vous vous identifier?"], ConversationState()) == []
    problems = check_turn(turn, ["Bonjour"], ConversationState())
    assert problems == ["missing 'Voulez-vous'", "missing '/Mon profil/'"]
    assert check_turn(Turn("x", "rest"), [], ConversationState()) == ["no reply"]


def test_asking_to_rephrase_twice_in_a_row_fails_once_is_fine():
    rephrase = ["Désolé, je n'ai pas compris. Pouvez-vous reformuler votre question?"]
    first, second, third = run_turns([("truc", rephrase), ("machin", rephrase), ("bidule", ["450 961-2001"])])
    assert first == [] and third == []
    assert second == ["asked to rephrase two turns in a row"]
    assert run_turns([("truc", rephrase), ("ok", ["D'accord."]), ("machin", rephrase)]) == [[], [], []]


@pytest.mark.parametrize("reply", [
    "Traceback (most recent call last):",
    'File "/x/actions/forms.py", line 12, in run',
    "KeyError: 'slot'",
    "Carte valide jusqu'au {expires_on}.",
    "Bonjour None",
])
def test_error_and_template_text_fails(reply):
    assert run_turns([("allo", [reply])])[0][0].startswith("error or template text")


@pytest.mark.parametrize("typed, reply", [
    ("ma carte c'est 123 456", "Votre carte 123456 : merci."),
    ("ma carte c'est 123456", "Carte 123 456 reçue."),
    ("mon tel 450-555-0123", "Le 450 555-0123 est noté."),
    ("née le 12 mars 1985", "Vous êtes née en 1985."),
    ("jean.gagnon@example.com", "Compte de jean.gagnon trouvé."),
    ("le site refuse Soleil2024!", "Soleil2024! ne respecte pas les règles."),
])
def test_a_personal_value_the_citizen_typed_is_never_said_back(typed, reply):
    problems = run_turns([(typed, ["D'accord."]), ("et puis?", [reply])])
    assert problems[0] == []
    assert "a personal value the citizen typed was said back" in problems[1]


def test_the_call_centre_number_and_a_year_inside_it_are_not_personal():
    problems = run_turns([("née en 2001, carte 123456", ["Appelez le 450 961-2001, poste 4000."])])
    assert problems == [[]]


def test_file_data_only_after_an_identification():
    answer = ["Merci, vous êtes identifié pour cette conversation.", "- Marie : carte valide jusqu'au 31 mars 2027."]
    assert run_turns([("123456 12 mars 1985", answer)]) == [[]]
    leaked = run_turns([("combien je dois", ["- Marie : 45,00 $"])])[0]
    assert leaked == ["personal data before identification: ['Marie', '45,00']"]
    assert run_turns([("combien je dois", ["- Marie : 45,00 $"])], by_token=True) == [[]]
    later = run_turns([("ok", ["**Votre dossier est maintenant lié à votre dossier à la Ville.** Cliquez sur votre nom"]),
                       ("combien je dois", ["- Marie : 45,00 $"])])
    assert later == [[], []]
    # The guide's steps quote what the site shows: that is no success, and the data stays unsaid.
    steps = ["Si tout est exact, vous verrez : **Votre dossier est maintenant lié à votre dossier à la Ville**. Attention"]
    quoted = run_turns([("ok", steps), ("combien je dois", ["- Marie : 45,00 $"])])
    assert quoted == [[], ["personal data before identification: ['Marie', '45,00']"]]


def test_two_messages_of_one_turn_saying_the_same_fail():
    same = ["Quels sont les six (6) derniers chiffres?", "quels sont les six  (6) derniers chiffres?"]
    assert run_turns([("oui", same)]) == [["two messages of one turn say the same"]]
    assert run_turns([("oui", ["Merci.", "Quels sont les six (6) derniers chiffres?"])]) == [[]]


def conversation(name: str, person: str = "not_expected", flow: str = "link_card") -> Conversation:
    return Conversation(name, "correction", flow, person, (Turn("allo", "rest", must=("x",)),), "f.yml")


def test_the_report_counts_conversations_completed_without_a_person_and_lists_failing_turns():
    outcomes = [
        Outcome(conversation("ok-1"), handed_to_person=False),
        Outcome(conversation("ok-2", flow="guide"), handed_to_person=False),
        Outcome(conversation("broken"), [TurnFailure(1, "non, c'est 654321", "missing 'corrigé'", "Merci.")]),
        Outcome(conversation("locked", "expected"), handed_to_person=True),
        Outcome(conversation("no-handoff", "expected"), [TurnFailure(-1, "", "a handoff to a person was expected")]),
    ]
    figures = summary(outcomes)
    assert (figures["completed_without_person"], figures["meant_without_person"]) == (2, 3)
    assert (figures["handed_to_person_as_expected"], figures["meant_for_person"]) == (1, 2)
    assert figures["matrix"] == {"link_card": {"correction": 4}, "guide": {"correction": 1}}
    text = render(outcomes)
    assert text.splitlines()[0] == "conversations completed without a person: 2/3"
    assert "- broken (f.yml, link_card x correction)" in text
    assert "turn 2: « non, c'est 654321 » -> missing 'corrigé'" in text
    assert "  end: -> a handoff to a person was expected" in text
    assert "ok-1" not in text


def test_conversation_ids_are_fresh_and_fit_a_client_session_key():
    first, second = conversation_id("expiry-offer"), conversation_id("expiry-offer")
    assert first != second and "." not in first and len(first) <= 128


def test_tokens_and_demo_data_of_a_runner(tmp_path):
    from bot.backend.factory import get_backend

    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    runner = Runner("http://127.0.0.1:1", url)
    runner.reset_demo_data(linked=["marie"])
    backend = get_backend(url)
    assert backend.account_status("marie.tremblay@example.com").linked
    assert not backend.account_status("jean.gagnon@example.com").linked
    marie = verify_token(runner.token("marie"))
    assert marie is not None and marie.account_id == backend.account_status("marie.tremblay@example.com").account_id
    assert verify_token(runner.token("forged")) is None
    assert verify_token(runner.token("expired")) is None
    runner.reset_demo_data()
    assert not backend.account_status("marie.tremblay@example.com").linked


# --- The suite itself ---

SUITE = load_suite()
GUIDED_FLOWS = ("link_card", "identify_card_expiry", "identify_profile", "identify_amount_due",
                "identify_registrations", "email_confirmation", "password_check")
BEHAVIOURS_1_TO_5 = BEHAVIOURS[:5]


def test_the_suite_holds_at_least_80_conversations_on_every_channel():
    assert len(SUITE) >= 80
    channels = {turn.channel for c in SUITE for turn in c.turns}
    assert channels == {"rest", "ivr", "socketio"}


@pytest.mark.parametrize("flow, behaviour", list(product(GUIDED_FLOWS, BEHAVIOURS_1_TO_5)))
def test_every_guided_flow_is_crossed_with_every_behaviour(flow, behaviour):
    assert any(c.flow == flow and c.behaviour == behaviour for c in SUITE)


def test_the_suite_has_failure_paths_and_the_topics_of_point_6():
    failures = [c for c in SUITE if c.behaviour == "failure"]
    assert any("lock" in c.name for c in failures) and any(
        t.token in ("forged", "expired") for c in failures for t in c.turns
    )
    assert len([c for c in SUITE if c.behaviour == "guide_topic"]) >= 8
    assert any(c.person_expected for c in SUITE) and any(not c.person_expected for c in SUITE)
