"""Realistic texts for the NLU speed fixes' equivalence tests, and the check that two sparse matrices are one."""
from __future__ import annotations

import numpy as np

from bot.settings import PROJECT_ROOT
from bot.tools.evaluation import DEFAULT_OOS, load_holdout, load_lines


def realistic_texts() -> list[str]:
    """The training examples, both held-out sets, and the external out-of-scope sentences when present."""
    texts = [text for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")) for text, _ in load_holdout(path)]
    texts += [text for name in ("nlu_holdout.yml", "nlu_holdout_speech.yml")
              for text, _ in load_holdout(PROJECT_ROOT / "tests" / name)]
    if DEFAULT_OOS.is_file():
        texts += load_lines(DEFAULT_OOS)
    return texts


def assert_same_sparse(ours, rasa, sparse_format: str) -> None:
    """The same matrix in the same format: shape, dtypes and every stored array, element for element."""
    assert ours.format == rasa.format == sparse_format
    assert ours.shape == rasa.shape and ours.dtype == rasa.dtype
    arrays = ("row", "col", "data") if sparse_format == "coo" else ("indptr", "indices", "data")
    for name in arrays:
        assert getattr(ours, name).dtype == getattr(rasa, name).dtype, name
        assert np.array_equal(getattr(ours, name), getattr(rasa, name)), name
