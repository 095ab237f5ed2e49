"""Measure how well the trained model understands citizens: held-out F1, out-of-scope rejection, fallbacks.

Two external sets, read in place from ../shared/eval and skipped when absent, measure rejection:
voice-assistant commands (oos_homeassistant_fr.txt) and everyday spoken French
(spoken_fr_rhapsodie.jsonl: ordinary conversation, not a question to the assistant).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.settings import PROJECT_ROOT

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
REJECTED = frozenset({FALLBACK, OUT_OF_SCOPE})

DEFAULT_HOLDOUT = PROJECT_ROOT / "tests" / "nlu_holdout.yml"
DEFAULT_OOS = PROJECT_ROOT.parent / "shared" / "eval" / "oos_homeassistant_fr.txt"
DEFAULT_SPOKEN = PROJECT_ROOT.parent / "shared" / "eval" / "spoken_fr_rhapsodie.jsonl"
DEFAULT_OUT = PROJECT_ROOT / "var" / "eval" / "report.json"
REVIEWED = PROJECT_ROOT / "data" / "nlu" / "reviewed.yml"
SPOKEN_FIELDS = ("text", "asr_style")
SPOKEN_MIN_WORDS = 4

TARGET_MACRO_F1 = 0.95
TARGET_OOS_REJECTION = 0.95
TARGET_FALSE_FALLBACK = 0.03
TARGET_SPOKEN_REJECTION = 0.90
SWEEP_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class Parse:
    """What the model said about one text: the final intent and DIET's two best before any fallback."""

    intent: str
    confidence: float
    top_intent: str
    top_confidence: float
    second_confidence: float

    def with_fallback(self, threshold: float, ambiguity: float) -> str:
        """The intent the FallbackClassifier would give with these thresholds."""
        if self.top_confidence < threshold or self.top_confidence - self.second_confidence < ambiguity:
            return FALLBACK
        return self.top_intent


@dataclass(frozen=True)
class Prediction:
    """One utterance with its expected intent and what the model said."""

    text: str
    expected: str
    parse: Parse

    @property
    def predicted(self) -> str:
        return self.parse.intent


def scored_intent(expected: str, predicted: str) -> str:
    """The predicted intent as scored: a fallback on an out-of-scope utterance is a correct rejection."""
    if expected == OUT_OF_SCOPE and predicted == FALLBACK:
        return OUT_OF_SCOPE
    return predicted


def per_intent_f1(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support for every expected intent of (expected, predicted) pairs."""
    labels = sorted({expected for expected, _ in pairs})
    scores: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        fp = sum(1 for e, p in pairs if e != label and p == label)
        fn = sum(1 for e, p in pairs if e == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return scores


def macro_f1(scores: dict[str, dict[str, float]]) -> float:
    """Unweighted mean of the per-intent F1 scores (0 when there is none)."""
    return sum(s["f1"] for s in scores.values()) / len(scores) if scores else 0.0


def confusion_pairs(predictions: Iterable[Prediction], examples: int = 3) -> list[dict]:
    """Misclassified (expected, predicted) pairs, most frequent first, with a few example texts."""
    counts: Counter[tuple[str, str]] = Counter()
    texts: dict[tuple[str, str], list[str]] = {}
    for p in predictions:
        predicted = scored_intent(p.expected, p.predicted)
        if predicted != p.expected:
            key = (p.expected, predicted)
            counts[key] += 1
            texts.setdefault(key, []).append(p.text)
    return [
        {"expected": e, "predicted": pr, "count": n, "examples": texts[(e, pr)][:examples]}
        for (e, pr), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def false_fallback_rate(predictions: Sequence[Prediction]) -> float:
    """Share of in-scope utterances (expected intent not out_of_scope) sent to nlu_fallback."""
    in_scope = [p for p in predictions if p.expected != OUT_OF_SCOPE]
    if not in_scope:
        return 0.0
    return sum(1 for p in in_scope if p.predicted == FALLBACK) / len(in_scope)


def rejection_rate(predicted_intents: Sequence[str]) -> float:
    """Share of predictions that reject the utterance (out_of_scope or nlu_fallback)."""
    if not predicted_intents:
        return 0.0
    return sum(1 for intent in predicted_intents if intent in REJECTED) / len(predicted_intents)


def threshold_sweep(
    predictions: Sequence[Prediction],
    oos_parses: Sequence[Parse],
    thresholds: Sequence[float],
    ambiguity: float,
) -> list[dict]:
    """Macro-F1, false fallback and OOS rejection as they would be with other fallback thresholds."""
    rows = []
    for threshold in thresholds:
        simulated = [
            Prediction(
                p.text, p.expected, Parse(p.parse.with_fallback(threshold, ambiguity), 0.0, "", 0.0, 0.0)
            )
            for p in predictions
        ]
        scores = per_intent_f1([(p.expected, scored_intent(p.expected, p.predicted)) for p in simulated])
        rows.append(
            {
                "threshold": threshold,
                "ambiguity_threshold": ambiguity,
                "macro_f1": macro_f1(scores),
                "in_scope_false_fallback": false_fallback_rate(simulated),
                "oos_rejection": (
                    rejection_rate([o.with_fallback(threshold, ambiguity) for o in oos_parses])
                    if oos_parses
                    else None
                ),
            }
        )
    return rows


def holdout_section(predictions: Sequence[Prediction]) -> dict:
    """The report section of one held-out file."""
    scores = per_intent_f1([(p.expected, scored_intent(p.expected, p.predicted)) for p in predictions])
    in_scope = [p for p in predictions if p.expected != OUT_OF_SCOPE]
    return {
        "utterances": len(predictions),
        "accuracy": (
            sum(1 for p in predictions if scored_intent(p.expected, p.predicted) == p.expected)
            / len(predictions)
            if predictions
            else 0.0
        ),
        "macro_f1": macro_f1(scores),
        "per_intent": scores,
        "in_scope_false_fallback": false_fallback_rate(predictions),
        "in_scope_rejected": (
            sum(1 for p in in_scope if p.predicted in REJECTED) / len(in_scope) if in_scope else 0.0
        ),
        "confusions": confusion_pairs(predictions),
    }


def targets_met(report: dict) -> dict[str, bool]:
    """Which targets of the issue the report meets (a skipped measure is not a failure)."""
    primary = report["holdout"][0] if report["holdout"] else None
    met = {}
    if primary is not None:
        met["macro_f1"] = primary["macro_f1"] >= TARGET_MACRO_F1
        met["in_scope_false_fallback"] = primary["in_scope_false_fallback"] <= TARGET_FALSE_FALLBACK
    if report["oos"].get("rejection_rate") is not None:
        met["oos_rejection"] = report["oos"]["rejection_rate"] >= TARGET_OOS_REJECTION
    if report.get("spoken", {}).get("rejection_rate") is not None:
        met["spoken_rejection"] = report["spoken"]["rejection_rate"] >= TARGET_SPOKEN_REJECTION
    return met


def render_table(report: dict) -> str:
    """The report as a table that reads well in a terminal."""
    lines = [f"Modèle : {report['model']}", f"Seuils de repli : {report['fallback']}"]
    for section in report["holdout"]:
        lines += [
            "",
            f"Jeu réservé {section['file']} : {section['utterances']} énoncés",
            f"{'intention':<28}{'préc.':>7}{'rappel':>8}{'F1':>7}{'n':>5}",
        ]
        for intent, s in section["per_intent"].items():
            lines.append(
                f"{intent:<28}{s['precision']:>7.2f}{s['recall']:>8.2f}{s['f1']:>7.2f}{int(s['support']):>5}"
            )
        lines += [
            f"F1 macro : {section['macro_f1']:.3f} (cible >= {TARGET_MACRO_F1})",
            f"Exactitude : {section['accuracy']:.3f}",
            f"Énoncés pertinents envoyés au repli (nlu_fallback) : {section['in_scope_false_fallback']:.1%}"
            f" (cible <= {TARGET_FALSE_FALLBACK:.0%})",
            f"Énoncés pertinents rejetés (repli ou hors-sujet) : {section['in_scope_rejected']:.1%}",
        ]
        if section["confusions"]:
            lines.append("Confusions (attendu -> prédit, nombre, exemples) :")
            for c in section["confusions"]:
                lines.append(
                    f"  {c['expected']} -> {c['predicted']} ({c['count']}) : {' | '.join(c['examples'])}"
                )
    oos = report["oos"]
    lines.append("")
    if oos.get("rejection_rate") is None:
        lines.append(f"Hors-sujet externe : ignoré ({oos['skipped']})")
    else:
        lines.append(
            f"Hors-sujet externe {oos['file']} : {oos['rejected']}/{oos['utterances']} rejetés,"
            f" taux {oos['rejection_rate']:.1%} (cible >= {TARGET_OOS_REJECTION:.0%})"
        )
        for intent, n in oos["accepted_as"].items():
            lines.append(f"  accepté comme {intent} : {n}")
    spoken = report.get("spoken", {})
    if spoken.get("rejection_rate") is None:
        if spoken:
            lines.append(f"Français parlé courant : ignoré ({spoken['skipped']})")
    else:
        by_field = ", ".join(f"{field} {rate:.1%}" for field, rate in spoken["by_field"].items())
        lines.append(
            f"Français parlé courant {spoken['file']} : {spoken['rejected']}/{spoken['utterances']} rejetés,"
            f" taux {spoken['rejection_rate']:.1%} (cible >= {TARGET_SPOKEN_REJECTION:.0%}; {by_field})"
        )
        for intent, n in spoken["accepted_as"].items():
            lines.append(f"  accepté comme {intent} : {n}")
    if report["threshold_sweep"]:
        lines += [
            "",
            "Autres seuils (simulés sur le premier jeu réservé) :",
            "seuil  ambiguïté  F1 macro  repli  rejet OOS",
        ]
        for row in report["threshold_sweep"]:
            oos_rate = "-" if row["oos_rejection"] is None else f"{row['oos_rejection']:.1%}"
            lines.append(
                f"{row['threshold']:>5.2f}{row['ambiguity_threshold']:>11.2f}{row['macro_f1']:>10.3f}"
                f"{row['in_scope_false_fallback']:>7.1%}{oos_rate:>11}"
            )
    lines.append("")
    for name, ok in report["targets_met"].items():
        lines.append(f"{'OK   ' if ok else 'ÉCHEC'} {name}")
    return "\n".join(lines)


def load_holdout(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file, entity annotations removed."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def load_lines(path: Path) -> list[str]:
    """Non-empty lines of a text file."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_spoken(path: Path, min_words: int = SPOKEN_MIN_WORDS) -> list[tuple[str, str]]:
    """(field, text) of every sentence of min_words words or more, once per field of SPOKEN_FIELDS.

    The length is counted on the ASR-style form (no punctuation), so both forms of a sentence are kept
    or left out together.
    """
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [row for row in rows if len(str(row.get("asr_style") or row.get("text") or "").split()) >= min_words]
    return [(field, str(row[field])) for field in SPOKEN_FIELDS for row in kept if row.get(field)]


def spoken_section(path: Path, fields: Sequence[str], parses: Sequence[Parse]) -> dict:
    """The report section of the everyday spoken French: how many sentences were rejected, per field."""
    predicted = [p.intent for p in parses]
    by_field = {
        field: rejection_rate([i for f, i in zip(fields, predicted, strict=True) if f == field])
        for field in dict.fromkeys(fields)
    }
    return {
        "file": _display(path),
        "min_words": SPOKEN_MIN_WORDS,
        "utterances": len(predicted),
        "rejected": sum(1 for intent in predicted if intent in REJECTED),
        "rejection_rate": rejection_rate(predicted),
        "by_field": by_field,
        "accepted_as": dict(Counter(i for i in predicted if i not in REJECTED).most_common()),
    }


def fallback_thresholds(config_path: Path) -> tuple[float, float]:
    """(threshold, ambiguity_threshold) of the FallbackClassifier in config.yml."""
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config.get("pipeline", []):
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return 0.0, 0.0


def trained_model(*args: str) -> str:
    """The path of the up-to-date model, trained by scripts/train.sh (with ``args``) when stale."""
    result = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "train.sh"), *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    return result.stdout.strip().splitlines()[-1]


def to_parse(parsed: dict) -> Parse:
    """A Parse from Rasa's parse result; DIET's ranking is read past the fallback intent."""
    intent = parsed.get("intent") or {}
    ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
    top = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    return Parse(
        intent=intent.get("name") or FALLBACK,
        confidence=float(intent.get("confidence") or 0.0),
        top_intent=str(top["name"]),
        top_confidence=float(str(top["confidence"])),
        second_confidence=float(second),
    )


class Parser:
    """Parses texts with a trained model loaded in this process, without Rasa's debug logs."""

    def __init__(self, model_path: str) -> None:
        from rasa.core.agent import Agent
        from rasa.utils.common import configure_logging_and_warnings
        from rasa.utils.log_utils import configure_structlog

        configure_logging_and_warnings(logging.WARNING)
        configure_structlog(logging.WARNING)
        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(model_path)

    def parse(self, texts: Sequence[str]) -> list[Parse]:
        """The model's reading of every text."""
        return [to_parse(self._loop.run_until_complete(self._agent.parse_message(text))) for text in texts]


def evaluate(
    model_path: str,
    holdout_files: Sequence[Path],
    oos_file: Path,
    config_path: Path,
    spoken_file: Path = DEFAULT_SPOKEN,
) -> dict:
    """Build the full report for one model."""
    parser = Parser(model_path)
    threshold, ambiguity = fallback_thresholds(config_path)
    report: dict = {
        "model": model_path,
        "fallback": {"threshold": threshold, "ambiguity_threshold": ambiguity},
        "holdout": [],
        "oos": {},
    }
    first_predictions: list[Prediction] = []
    for path in holdout_files:
        pairs = load_holdout(path)
        parses = parser.parse([text for text, _ in pairs])
        predictions = [
            Prediction(text, expected, parse) for (text, expected), parse in zip(pairs, parses, strict=True)
        ]
        first_predictions = first_predictions or predictions
        report["holdout"].append({"file": _display(path), **holdout_section(predictions)})
    oos_parses: list[Parse] = []
    if oos_file.is_file():
        lines = load_lines(oos_file)
        oos_parses = parser.parse(lines)
        predicted = [p.intent for p in oos_parses]
        report["oos"] = {
            "file": _display(oos_file),
            "utterances": len(lines),
            "rejected": sum(1 for intent in predicted if intent in REJECTED),
            "rejection_rate": rejection_rate(predicted),
            "accepted_as": dict(Counter(i for i in predicted if i not in REJECTED).most_common()),
        }
    else:
        report["oos"] = {"rejection_rate": None, "skipped": f"{_display(oos_file)} introuvable"}
    if spoken_file.is_file():
        spoken = load_spoken(spoken_file)
        spoken_parses = parser.parse([text for _, text in spoken])
        report["spoken"] = spoken_section(spoken_file, [field for field, _ in spoken], spoken_parses)
    else:
        report["spoken"] = {"rejection_rate": None, "skipped": f"{_display(spoken_file)} introuvable"}
    report["threshold_sweep"] = threshold_sweep(first_predictions, oos_parses, SWEEP_THRESHOLDS, ambiguity)
    report["targets_met"] = targets_met(report)
    return report


def headline(report: dict) -> dict[str, float | None]:
    """The figures a before/after comparison shows, by name."""
    figures: dict[str, float | None] = {}
    for section in report["holdout"]:
        figures[f"F1 macro {section['file']}"] = section["macro_f1"]
        figures[f"repli {section['file']}"] = section["in_scope_false_fallback"]
    figures["rejet hors-sujet externe"] = report["oos"].get("rejection_rate")
    figures["rejet français parlé courant"] = report.get("spoken", {}).get("rejection_rate")
    return figures


def render_review_comparison(before: dict[str, float | None], after: dict[str, float | None]) -> str:
    """The help desk's reviewed examples (data/nlu/reviewed.yml): each figure without them and with them."""
    lines = ["", f"Avant / après les exemples révisés ({_display(REVIEWED)}) :",
             f"{'':<46}{'avant':>8}{'après':>8}"]
    for name, value in after.items():
        old = before.get(name)
        if value is None or old is None:
            continue
        fmt = ".3f" if name.startswith("F1") else ".1%"
        lines.append(f"{name:<46}{old:>8{fmt}}{value:>8{fmt}}")
    return "\n".join(lines)


def _display(path: Path) -> str:
    return os.path.relpath(path.resolve(), PROJECT_ROOT)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; exit code 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m bot.tools.evaluation", description=__doc__)
    parser.add_argument("--model", help="model archive (default: the one scripts/train.sh gives)")
    parser.add_argument(
        "--holdout",
        action="append",
        type=Path,
        help="held-out NLU file (repeatable; default: tests/nlu_holdout*.yml, the typed set first)",
    )
    parser.add_argument("--oos", type=Path, default=DEFAULT_OOS, help="external out-of-scope sentences")
    parser.add_argument(
        "--spoken", type=Path, default=DEFAULT_SPOKEN, help="everyday spoken French (JSON lines), all out of scope"
    )
    parser.add_argument(
        "--config", type=Path, default=PROJECT_ROOT / "config.yml", help="config of the model"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON report")
    args = parser.parse_args(argv)

    holdout = args.holdout or [DEFAULT_HOLDOUT] + sorted(
        p for p in (PROJECT_ROOT / "tests").glob("nlu_holdout*.yml") if p != DEFAULT_HOLDOUT
    )
    if not args.oos.is_file():
        print(f"Évaluation hors-sujet externe ignorée : {args.oos} est absent.", file=sys.stderr)
    if not args.spoken.is_file():
        print(f"Évaluation du français parlé courant ignorée : {args.spoken} est absent.", file=sys.stderr)
    report = evaluate(args.model or trained_model(), holdout, args.oos, args.config, args.spoken)
    comparison = ""
    if not args.model and REVIEWED.is_file():
        # The same inputs without the reviewed examples: what the help desk's review changed.
        before = evaluate(trained_model("--before-review"), holdout, args.oos, args.config, args.spoken)
        report["before_review"] = headline(before)
        comparison = render_review_comparison(report["before_review"], headline(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(render_table(report) + comparison)
    print(f"\nRapport JSON : {_display(args.out)}")
    return 0 if all(report["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
