"""The guide's password rules, the missed rules of a candidate and the password-like text detector.

The sentences that explain a missed rule are responses of domain.yml: tests/actions/test_password_check.py.
"""
import pytest

from bot.policy.password import (
    GUIDE_RULES,
    LengthUnit,
    PasswordRules,
    Rule,
    check,
    count_words,
    extract_candidate,
    looks_like_password,
    password_spans,
)
from tests.responses import render

GUIDE_SENTENCE = (
    "Votre mot de passe doit contenir : un minimum de huit (8) lettres incluant une majuscule ; "
    "plus un chiffre ; plus un symbole."
)


def test_default_rules_are_the_guide_word_for_word():
    assert render("utter_password_rules").replace("\n- ", " ") == GUIDE_SENTENCE
    assert f"un minimum de {count_words(GUIDE_RULES.min_length)} lettres incluant une majuscule" in GUIDE_SENTENCE
    assert GUIDE_RULES.length_unit is LengthUnit.LETTERS
    assert GUIDE_RULES.require_uppercase and GUIDE_RULES.require_digit and GUIDE_RULES.require_symbol


@pytest.mark.parametrize(
    ("candidate", "missed"),
    [
        ("AbcdefgH1!", []),
        ("ABCDEFGH1$", []),
        ("Éléphant7#", []),
        ("Soleil2024!", [Rule.LENGTH]),  # six letters: the digits do not count as letters
        ("Abcdef1!", [Rule.LENGTH]),  # eight characters but only six letters
        ("soleil", [Rule.LENGTH, Rule.UPPERCASE, Rule.DIGIT, Rule.SYMBOL]),
        ("abcdefgh1!", [Rule.UPPERCASE]),
        ("Abcdefgh!", [Rule.DIGIT]),
        ("Abcdefgh1", [Rule.SYMBOL]),
        ("Abcdefgh 1", [Rule.SYMBOL]),  # a space is not a symbol
        ("", [Rule.LENGTH, Rule.UPPERCASE, Rule.DIGIT, Rule.SYMBOL]),
        ("12345678!", [Rule.LENGTH, Rule.UPPERCASE]),
    ],
)
def test_check_names_exactly_the_missed_rules(candidate, missed):
    assert check(candidate) == missed


def test_a_city_that_counts_characters_configures_it():
    rules = PasswordRules(length_unit=LengthUnit.CHARACTERS)
    assert rules.check("Abcdef1!") == []
    assert rules.not_counted_in_length() == ()


def test_rules_can_be_relaxed():
    rules = PasswordRules(min_length=12, require_symbol=False)
    assert rules.check("Abcdefghijk1") == [Rule.LENGTH]
    assert rules.check("Abcdefghijkl1") == []
    assert rules.not_counted_in_length() == (Rule.DIGIT,)
    assert count_words(rules.min_length) == "douze (12)"


@pytest.mark.parametrize(
    ("text", "candidate"),
    [
        ("le site refuse mon mot de passe", None),
        ("mon mot de passe est soleil", "soleil"),
        ("mot de passe : Soleil2024!, refusé", "Soleil2024!"),
        ("mon mot de passe Soleil2024! est refusé", "Soleil2024!"),
        ("j'ai essayé « Bonjour123 » et ça marche pas", "Bonjour123"),
        ("mon mot de passe est trop court", None),
        ("mot de passe refusé", None),
        ("Tr3mbl@y!", "Tr3mbl@y!"),
    ],
)
def test_extract_candidate_from_what_people_type(text, candidate):
    assert extract_candidate(text) == candidate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon mot de passe est soleil", True),
        ("Tr3mbl@y", True),
        ("j'ai mis Bonjour123 partout", True),
        ("Bonjour! je veux créer un compte", False),
        ("quatre-vingt-cinq, aujourd'hui, l'adresse", False),
        ("marie.tremblay@example.com", False),
        ("https://inscriptions.ville.terrebonne.qc.ca/IC3P.WebSite/#/U2010", False),
        ("123 456", False),
        ("12/03/1985", False),
        ("(450) 555-0123", False),
        ("mot de passe oublié", False),
        ("", False),
    ],
)
def test_looks_like_password(text, expected):
    assert looks_like_password(text) is expected


def test_the_password_span_is_only_the_password():
    text = "mon mot de passe Soleil2024! est refusé"
    assert password_spans(text) == [(17, 28)]
    assert password_spans("Bonjour") == []
