"""Fewer garbage collections while a batch of model requests is in flight.

Hundreds of requests in flight keep thousands of young objects alive at once (their tasks, frames, aiohttp
requests, replies, ledger rows), so CPython's collector, which runs a young-generation pass every 700 new
objects and promotes what survives, rescans them again and again, and every so often walks the whole heap
(the engine's modules, a stage's input rows). Measured at 256 in flight against the loopback server, that was
~240 us of CPU a request, a third of the layer's, and a bare aiohttp client pays ~140 us of it too.

So while any batch runs in this process, what was alive when the first began is frozen (`gc.freeze`: left out
of every pass until the last batch ends) and a young-generation pass waits for 20,000 new objects; when the
last batch ends, the collector's settings are put back as they were. Reference counting is untouched, so all
that waits is garbage in reference cycles (a frozen cycle until the batches end). A process that froze objects
itself (before forking workers, say) keeps them frozen: then only the threshold changes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000  # new objects between young-generation passes while a batch runs (CPython's default: 700)

_lock = threading.Lock()
_running = 0  # batches running in this process, in any thread or event loop
_saved: tuple[int, ...] = ()
_froze = False


@contextmanager
def fewer_collections() -> Iterator[None]:
    global _running, _saved, _froze
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            _froze = gc.get_freeze_count() == 0
            if _froze:
                gc.freeze()
            if _saved[0]:  # a threshold of 0 is the collector turned off: leave it so
                gc.set_threshold(max(_saved[0], YOUNG_THRESHOLD), *_saved[1:])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_saved)
                if _froze:
                    gc.unfreeze()
