"""The password check action: the missed rules of a typed password, never the password itself."""
import pytest

from actions.password import ActionCheckPassword, missed_rule_response
from bot.contract import ANOTHER_TRY_SLOT
from bot.policy.password import GUIDE_RULES, LengthUnit, PasswordRules, Rule
from tests.actions.trackers import make_tracker, slot_events, texts
from tests.responses import render


def explain(rules: PasswordRules, rule: Rule) -> str:
    """The sentence that explains one missed rule, as the citizen reads it."""
    response, variables = missed_rule_response(rules, rule)
    return render(response, **variables)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("le site refuse mon mot de passe Soleil2024!", ["huit (8) lettres"]),
        ("mon mot de passe est soleil", ["huit (8) lettres", "majuscule", "chiffre", "symbole"]),
        ("mot de passe : abcdefgh1!", ["majuscule"]),
    ],
)
async def test_says_which_rules_a_typed_password_misses(dispatcher, domain, text, expected):
    await ActionCheckPassword().run(dispatcher, make_tracker(text, intent="password_rejected"), domain)
    reply = texts(dispatcher)
    for words in expected:
        assert words in reply
    candidate = text.split()[-1]
    assert candidate not in reply
    assert "ne communiquez jamais votre mot de passe" in reply


async def test_a_password_that_meets_the_rules(dispatcher, domain):
    await ActionCheckPassword().run(dispatcher, make_tracker("il refuse AbcdefgH1!", intent="password_rejected"), domain)
    assert "respecte les règles du guide" in texts(dispatcher)
    assert "AbcdefgH1!" not in texts(dispatcher)


@pytest.mark.parametrize(("text", "channel"), [("le site refuse mon mot de passe", "rest"), ("Soleil2024!", "ivr")])
async def test_nothing_added_without_a_typed_password_or_on_the_phone(dispatcher, domain, text, channel):
    await ActionCheckPassword().run(dispatcher, make_tracker(text, intent="password_rejected", channel=channel), domain)
    assert dispatcher.messages == []


@pytest.mark.parametrize("candidate", ["soleil", "Soleil2024!", "abcdefgh1!", "Abcdefgh!", "Abcdefgh1"])
def test_explanations_never_repeat_the_password(candidate):
    explanations = [explain(GUIDE_RULES, rule) for rule in GUIDE_RULES.check(candidate)]
    assert explanations
    for text in explanations:
        assert candidate not in text
        assert candidate.lower() not in text.lower()


def test_length_explanation_says_digits_and_symbols_do_not_count():
    assert explain(GUIDE_RULES, Rule.LENGTH) == (
        "Il faut au moins huit (8) lettres ; le chiffre et le symbole ne comptent pas dans ces lettres."
    )


def test_a_city_that_counts_characters_or_relaxes_the_rules_is_explained_its_rules():
    assert explain(PasswordRules(length_unit=LengthUnit.CHARACTERS), Rule.LENGTH) == "Il faut au moins huit (8) caractères."
    assert explain(PasswordRules(min_length=12, require_symbol=False), Rule.LENGTH) == (
        "Il faut au moins douze (12) lettres ; le chiffre ne compte pas dans ces lettres."
    )
    assert explain(PasswordRules(require_digit=False), Rule.LENGTH) == (
        "Il faut au moins huit (8) lettres ; le symbole ne compte pas dans ces lettres."
    )
    assert explain(PasswordRules(require_digit=False, require_symbol=False), Rule.LENGTH) == (
        "Il faut au moins huit (8) lettres."
    )


@pytest.mark.parametrize("text", ["le site refuse mon mot de passe Soleil2024", "il refuse AbcdefgH1!"])
async def test_a_password_typed_next_is_checked_too(dispatcher, domain, text):
    events = await ActionCheckPassword().run(dispatcher, make_tracker(text, intent="password_rejected"), domain)
    assert slot_events(events) == {ANOTHER_TRY_SLOT: "action_check_password"}


@pytest.mark.parametrize(("text", "channel"), [("le site refuse mon mot de passe", "rest"), ("Soleil2024!", "ivr")])
async def test_no_other_try_without_a_checked_password(dispatcher, domain, text, channel):
    tracker = make_tracker(text, intent="password_rejected", channel=channel)
    assert await ActionCheckPassword().run(dispatcher, tracker, domain) == []
