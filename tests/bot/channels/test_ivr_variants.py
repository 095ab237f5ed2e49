"""Every response of domain.yml that the phone line may read aloud is speakable as it is."""
import pytest
import yaml

from bot.channels.ivr import speakable
from bot.settings import PROJECT_ROOT

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")).get("responses") or {}


def _read_on_the_phone(variants):
    """The variants Rasa may pick for the ivr channel: the ivr ones, else those without a channel."""
    ivr = [v for v in variants if v.get("channel") == "ivr"]
    return ivr or [v for v in variants if not v.get("channel")]


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_what_the_phone_line_reads_has_no_markdown_link_list_or_emoji(name):
    for variant in _read_on_the_phone(RESPONSES[name]):
        text = variant.get("text") or ""
        spoken, stripped = speakable(text)
        assert not stripped, f"{name}: add or fix its `channel: ivr` variant: {text!r}"
        assert "\n- " not in f"\n{text}", f"{name}: a list is not read well aloud: {text!r}"
