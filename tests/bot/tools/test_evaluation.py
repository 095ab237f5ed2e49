"""The evaluation's figures: F1, rejection, false fallbacks, confusions, simulated thresholds."""

from __future__ import annotations

import json

import pytest

from bot.tools.evaluation import (
    FALLBACK,
    Parse,
    Prediction,
    confusion_pairs,
    fallback_thresholds,
    false_fallback_rate,
    headline,
    holdout_section,
    load_holdout,
    load_spoken,
    macro_f1,
    per_intent_f1,
    rejection_rate,
    render_review_comparison,
    render_table,
    spoken_section,
    targets_met,
    threshold_sweep,
    to_parse,
)


def prediction(
    text: str, expected: str, predicted: str, top: str | None = None, conf: float = 0.9
) -> Prediction:
    return Prediction(text, expected, Parse(predicted, conf, top or predicted, conf, 0.05))


def test_perfect_predictions_give_f1_of_one():
    scores = per_intent_f1([("greet", "greet"), ("thank", "thank"), ("greet", "greet")])
    assert macro_f1(scores) == 1.0
    assert scores["greet"]["support"] == 2


def test_f1_counts_a_wrong_prediction_against_both_intents():
    scores = per_intent_f1([("greet", "greet"), ("greet", "thank"), ("thank", "thank")])
    assert scores["greet"]["precision"] == 1.0
    assert scores["greet"]["recall"] == 0.5
    assert scores["thank"]["precision"] == 0.5
    assert scores["thank"]["f1"] == pytest.approx(2 / 3)
    assert macro_f1(scores) == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_macro_f1_of_nothing_is_zero():
    assert macro_f1({}) == 0.0


def test_a_fallback_on_out_of_scope_is_a_correct_rejection_but_a_miss_in_scope():
    section = holdout_section(
        [
            prediction("allume la lumière", "out_of_scope", FALLBACK),
            prediction("bonjour", "greet", FALLBACK),
            prediction("salut", "greet", "greet"),
        ]
    )
    assert section["per_intent"]["out_of_scope"]["f1"] == 1.0
    assert section["per_intent"]["greet"]["recall"] == 0.5
    assert section["in_scope_false_fallback"] == 0.5
    assert section["confusions"] == [
        {"expected": "greet", "predicted": FALLBACK, "count": 1, "examples": ["bonjour"]}
    ]


def test_false_fallback_ignores_out_of_scope_utterances():
    predictions = [
        prediction("météo", "out_of_scope", FALLBACK),
        prediction("merci", "thank", "thank"),
        prediction("merci ben", "thank", "thank"),
        prediction("euh", "thank", FALLBACK),
    ]
    assert false_fallback_rate(predictions) == pytest.approx(1 / 3)
    assert false_fallback_rate([]) == 0.0


def test_rejection_counts_out_of_scope_and_fallback():
    assert rejection_rate(["out_of_scope", FALLBACK, "inform", "out_of_scope"]) == 0.75
    assert rejection_rate([]) == 0.0


def test_confusions_are_sorted_by_frequency_with_examples():
    pairs = confusion_pairs(
        [
            prediction("a", "ask_hours", "out_of_scope"),
            prediction("b", "link_card", "no_card"),
            prediction("c", "link_card", "no_card"),
            prediction("d", "link_card", "link_card"),
        ]
    )
    assert [(c["expected"], c["predicted"], c["count"]) for c in pairs] == [
        ("link_card", "no_card", 2),
        ("ask_hours", "out_of_scope", 1),
    ]
    assert pairs[0]["examples"] == ["b", "c"]


def test_parse_reads_the_ranking_behind_the_fallback():
    parse = to_parse(
        {
            "intent": {"name": FALLBACK, "confidence": 0.6},
            "intent_ranking": [
                {"name": FALLBACK, "confidence": 0.6},
                {"name": "inform", "confidence": 0.55},
                {"name": "greet", "confidence": 0.3},
            ],
        }
    )
    assert (parse.intent, parse.top_intent, parse.top_confidence, parse.second_confidence) == (
        FALLBACK,
        "inform",
        0.55,
        0.3,
    )
    assert parse.with_fallback(0.5, 0.1) == "inform"
    assert parse.with_fallback(0.5, 0.3) == FALLBACK
    assert parse.with_fallback(0.6, 0.0) == FALLBACK


def test_sweep_shows_a_higher_threshold_rejects_more():
    predictions = [
        prediction("merci", "thank", "thank", conf=0.95),
        prediction("ok", "affirm", "affirm", conf=0.5),
    ]
    oos = [Parse("inform", 0.7, "inform", 0.7, 0.1), Parse("out_of_scope", 0.99, "out_of_scope", 0.99, 0.0)]
    low, high = threshold_sweep(predictions, oos, [0.4, 0.8], 0.1)
    assert (low["in_scope_false_fallback"], low["oos_rejection"]) == (0.0, 0.5)
    assert (high["in_scope_false_fallback"], high["oos_rejection"]) == (0.5, 1.0)
    assert high["macro_f1"] < low["macro_f1"]


def test_targets_skip_a_missing_out_of_scope_file():
    report = {
        "model": "m.tar.gz",
        "fallback": {"threshold": 0.6, "ambiguity_threshold": 0.1},
        "holdout": [
            {"file": "tests/nlu_holdout.yml", **holdout_section([prediction("salut", "greet", "greet")])}
        ],
        "oos": {"rejection_rate": None, "skipped": "absent"},
        "threshold_sweep": [],
    }
    report["targets_met"] = targets_met(report)
    assert report["targets_met"] == {"macro_f1": True, "in_scope_false_fallback": True}
    table = render_table(report)
    assert "ignoré (absent)" in table
    assert "F1 macro : 1.000" in table


def test_holdout_file_is_read_without_entity_annotations(tmp_path):
    path = tmp_path / "holdout.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n  - intent: inform\n    examples: |\n      - ma carte [123456](card_digits)\n',
        encoding="utf-8",
    )
    assert load_holdout(path) == [("ma carte 123456", "inform")]


def test_fallback_thresholds_come_from_the_config(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text(
        "pipeline:\n  - name: DIETClassifier\n  - name: FallbackClassifier\n    threshold: 0.55\n"
        "    ambiguity_threshold: 0.05\n",
        encoding="utf-8",
    )
    assert fallback_thresholds(path) == (0.55, 0.05)


def test_spoken_sentences_of_four_words_or_more_are_read_in_both_forms(tmp_path):
    path = tmp_path / "spoken.jsonl"
    rows = [
        {"text": "euh, bon, on va au parc.", "asr_style": "euh bon on va au parc", "sent_id": "1"},
        {"text": "oui, bon.", "asr_style": "oui bon", "sent_id": "2"},
        {"text": "Il pleut encore.", "asr_style": "il pleut encore", "sent_id": "3"},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    assert load_spoken(path) == [("text", "euh, bon, on va au parc."), ("asr_style", "euh bon on va au parc")]
    assert len(load_spoken(path, min_words=3)) == 4


def test_spoken_section_counts_rejections_per_form_and_sets_a_target(tmp_path):
    parses = [
        Parse("out_of_scope", 0.9, "out_of_scope", 0.9, 0.0),
        Parse("ask_hours", 0.8, "ask_hours", 0.8, 0.1),
        Parse(FALLBACK, 0.4, "greet", 0.4, 0.3),
        Parse(FALLBACK, 0.3, "inform", 0.3, 0.2),
    ]
    section = spoken_section(tmp_path / "spoken.jsonl", ["text", "text", "asr_style", "asr_style"], parses)
    assert (section["utterances"], section["rejected"], section["rejection_rate"]) == (4, 3, 0.75)
    assert section["by_field"] == {"text": 0.5, "asr_style": 1.0}
    assert section["accepted_as"] == {"ask_hours": 1}
    report = {
        "model": "m.tar.gz",
        "fallback": {"threshold": 0.5, "ambiguity_threshold": 0.1},
        "holdout": [],
        "oos": {"rejection_rate": None, "skipped": "absent"},
        "spoken": section,
        "threshold_sweep": [],
    }
    report["targets_met"] = targets_met(report)
    assert report["targets_met"] == {"spoken_rejection": False}
    assert "ÉCHEC spoken_rejection" in render_table(report)
    assert "3/4 rejetés, taux 75.0% (cible >= 90%; text 50.0%, asr_style 100.0%)" in render_table(report)
    report["spoken"] = {"rejection_rate": None, "skipped": "absent"}
    report["targets_met"] = targets_met(report)
    assert report["targets_met"] == {}
    assert "Français parlé courant : ignoré (absent)" in render_table(report)


def test_the_help_desk_s_review_shows_each_figure_before_and_after():
    def report(predicted: str) -> dict:
        section = holdout_section([prediction("c'est quoi les heures", "ask_hours", predicted),
                                   prediction("salut", "greet", "greet")])
        return {"holdout": [{"file": "tests/nlu_holdout.yml", **section}],
                "oos": {"rejection_rate": 0.97}, "spoken": {"rejection_rate": None}}

    before, after = headline(report(FALLBACK)), headline(report("ask_hours"))
    table = render_review_comparison(before, after)
    assert "F1 macro tests/nlu_holdout.yml" in table and "1.000" in table
    lines = {line.split("  ")[0]: line.split() for line in table.splitlines()}
    assert lines["repli tests/nlu_holdout.yml"][-2:] == ["50.0%", "0.0%"], "the reviewed wording left the fallback"
    assert lines["rejet hors-sujet externe"][-2:] == ["97.0%", "97.0%"]
    assert "parlé courant" not in table, "a set that was not measured is not shown"
