"""No long garbage-collection pauses in a server that has loaded what it serves.

Once its model is loaded, a Rasa instance holds about 550,000 objects that the garbage collector
tracks (Rasa's and TensorFlow's modules, the model, the domain), the action server about 160,000.
CPython's full collection, of the oldest generation, goes through all of them: under the bench's
load it ran about every 30 seconds in each instance and stopped the instance's event loop for
300 ms each time (`gc.callbacks` timings, 1 December), so every message that arrived meanwhile
waited: the slowest messages of `make bench` came in such bursts.

Objects that live as long as the process need not be scanned again and again. Once the server
has started, `freeze_long_lived` frees what start-up left behind and moves what remains to the
permanent generation (`gc.freeze`), which collections skip. Objects created afterwards (trackers,
the memory of recent conversations) are collected as before, and a full collection only goes
through those. When a new model replaces the loaded one (Rasa's ``PUT /model``), the call is made
again: the earlier freeze is undone first, so the old model can be collected.
"""
from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)


def freeze_long_lived() -> int:
    """Collect, then keep every object still alive out of later collections; the number frozen."""
    started = time.perf_counter()
    gc.unfreeze()  # what an earlier call kept (a model replaced since) is collected again below
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.debug("%d objects kept out of garbage collection (%.0f ms)", frozen,
                 (time.perf_counter() - started) * 1000)
    return frozen
