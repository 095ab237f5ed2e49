"""`make train` shows what it is doing: one line per stage of Rasa's training."""
import importlib.util

from bot.settings import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("train_progress", PROJECT_ROOT / "scripts" / "train_progress.py")
train_progress = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train_progress)

RASA_OUTPUT = [
    "2026-11-30 15:40:01 INFO     rasa.engine.training.hooks  - Starting to train component 'SpacyNLP'.",
    "2026-11-30 15:40:03 INFO     rasa.engine.training.hooks  - Finished training component 'SpacyNLP'.",
    "2026-11-30 15:40:03 INFO     rasa.engine.training.hooks  - Restored component 'CountVectorsFeaturizer' from cache.",
    "2026-11-30 15:40:04 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.",
    "Epochs:   0%|          | 0/100",
    "Epochs:   7%|▋         | 7/100",
    "Epochs:  21%|██        | 21/100",
    "Epochs:  23%|██▎       | 23/100",
    "Epochs: 100%|██████████| 100/100",
]


def test_each_stage_and_the_epochs_every_fifth_are_shown():
    clock = iter(range(100, 200)).__next__
    lines = list(train_progress.progress_lines(RASA_OUTPUT, 100, clock=clock))
    assert lines == [
        "       0 s  entraînement de SpacyNLP",
        "       2 s  CountVectorsFeaturizer repris du cache",
        "       3 s  entraînement de DIETClassifier",
        "       4 s    époques : 0 %",
        "       6 s    époques : 20 %",
        "       8 s    époques : 100 %",
    ]


def test_the_progress_bar_s_redraws_are_read_as_they_come():
    import os

    read, write = os.pipe()
    os.write(write, b"Epochs:  7%|\rEpochs:  21%|\rdone\n")
    os.close(write)
    assert list(train_progress.segments(read)) == ["Epochs:  7%|", "Epochs:  21%|", "done"]
    os.close(read)
