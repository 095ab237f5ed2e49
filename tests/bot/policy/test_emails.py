"""Email addresses from what people type."""
import pytest

from bot.policy.emails import EmailProblem, parse_email
from tests.responses import hint_text


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("jean.gagnon@example.com", "jean.gagnon@example.com"),
        ("mon courriel est Jean.Gagnon@Example.COM, merci", "jean.gagnon@example.com"),
        ("marie+loisirs@ville.terrebonne.qc.ca", "marie+loisirs@ville.terrebonne.qc.ca"),
    ],
)
def test_addresses_as_people_type_them(text, email):
    result = parse_email(text)
    assert result.value == email
    assert hint_text(result) is None


@pytest.mark.parametrize("text", ["", "jean point gagnon", "jean@example", "@example.com", "jean gagnon at example"])
def test_no_address_gets_an_example_of_one(text):
    result = parse_email(text)
    assert not result.ok
    assert result.problem is EmailProblem.NOT_FOUND
    assert "prenom.nom@exemple.com" in hint_text(result)
