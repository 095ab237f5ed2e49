"""The password check action: the missed rules of a typed password, never the password itself."""
import pytest

from actions.password import ActionCheckPassword
from tests.actions.trackers import make_tracker, texts


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
