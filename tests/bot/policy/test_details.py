"""Every personal detail of a free message, as citizens give them along with their question."""
from datetime import date

import pytest

from bot.nlu.components import detail_entities
from bot.policy.details import Details, find_details

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ma carte c'est 123456 pis je suis née le 3 mars 1980, elle expire quand?",
         Details(card="123456", birth_date=date(1980, 3, 3))),
        ("123 456 12/03/1985", Details(card="123456", birth_date=date(1985, 3, 12))),
        ("1985-03-12 et ma carte 654321", Details(card="654321", birth_date=date(1985, 3, 12))),
        ("carte 123456 tel 450-555-0123", Details(card="123456", phone="4505550123")),
        ("mon courriel c'est Jean.Gagnon2@Exemple.com pis j'ai rien reçu",
         Details(email="jean.gagnon2@exemple.com")),
        ("bonjour, j'ai oublié mon mot de passe", Details()),
        ("j'ai 3 enfants de 4, 6 et 9 ans", Details()),
        ("555-0123", Details()),  # seven digits: a phone without its area code, not card digits
        ("j'habite au J6W 4X5", Details()),
        ("la session d'hiver 2027 commence quand?", Details()),
    ],
)
def test_details_are_read_from_free_messages(text, expected):
    assert find_details(text, TODAY) == expected


def test_a_date_is_never_taken_for_card_digits():
    assert find_details("le 12/03/1985", TODAY).card is None


def test_a_future_birth_date_is_no_detail():
    assert find_details("né le 3 mars 2030", TODAY).birth_date is None


def test_the_nlu_gives_them_as_entities_named_like_their_slots():
    entities = detail_entities("123456, née le 3 mars 1980, quand expire ma carte?", TODAY)
    assert {e["entity"]: e["value"] for e in entities} == {"card_digits": "123456", "birth_date": "1980-03-03"}
    assert detail_entities("quand expire ma carte?", TODAY) == []
