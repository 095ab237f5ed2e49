"""Reads `rasa train`'s output on stdin and prints one line per stage: what `make train` shows meanwhile.

Usage: rasa train ... 2>&1 | python scripts/train_progress.py START_EPOCH_SECONDS
Prints when a component starts training (or comes from Rasa's cache), the intent classifier's epochs
every 20 %, and the seconds since START. Lines are operator output (French, like the Makefile's).
"""
from __future__ import annotations

import os
import re
import sys
import time

STARTED = re.compile(r"Starting to train component '(?P<name>\w+)'")
CACHED = re.compile(r"Restored component '(?P<name>\w+)' from cache")
EPOCHS = re.compile(r"Epochs:\s+(?P<percent>\d+)%")
STEP_PERCENT = 20


def progress_lines(lines, start: float, clock=time.time):
    """The progress lines for Rasa's output ``lines``."""
    shown = -1
    for line in lines:
        elapsed = int(clock() - start)
        if match := STARTED.search(line):
            shown = -1
            yield f"    {elapsed:>4} s  entraînement de {match['name']}"
        elif match := CACHED.search(line):
            yield f"    {elapsed:>4} s  {match['name']} repris du cache"
        else:
            for found in EPOCHS.finditer(line):
                percent = int(found["percent"]) // STEP_PERCENT * STEP_PERCENT
                if percent > shown:
                    shown = percent
                    yield f"    {elapsed:>4} s    époques : {percent} %"


def segments(fd: int = 0):
    """What arrives on ``fd``, cut at each newline or carriage return (tqdm redraws its bar with \\r, so
    reading whole lines would show the epochs only at the end)."""
    pending = ""
    while chunk := os.read(fd, 4096):
        pending += chunk.decode("utf-8", errors="replace")
        *done, pending = re.split(r"[\r\n]", pending)
        yield from done
    if pending:
        yield pending


def main() -> None:
    start = float(sys.argv[1]) if len(sys.argv) > 1 else time.time()
    for line in progress_lines(segments(), start):
        print(line, flush=True)


if __name__ == "__main__":
    main()
