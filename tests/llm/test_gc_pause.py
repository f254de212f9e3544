"""While a batch is in flight the collector runs less often, and it is put back as it was when the last batch ends."""

from __future__ import annotations

import asyncio
import gc

from engine.llm.gc_pause import YOUNG_THRESHOLD, fewer_collections
from engine.llm.types import Response
from tests.llm.conftest import openai_config, prompts


def test_a_batch_freezes_the_heap_and_raises_the_threshold_until_the_last_one_ends():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] >= YOUNG_THRESHOLD
        with fewer_collections():  # a second batch at once (another thread or event loop)
            pass
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] >= YOUNG_THRESHOLD  # the first still runs
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_them_frozen():
    gc.freeze()
    try:
        with fewer_collections():
            pass
        assert gc.get_freeze_count() > 0  # not unfrozen by the batch (the count drops as frozen objects die)
    finally:
        gc.unfreeze()


def test_a_batch_that_raises_puts_the_collector_back(make, server):
    before = gc.get_threshold()
    llm, _, _ = make(openai_config(server.base_url))

    async def cancelled_mid_batch() -> None:
        task = asyncio.ensure_future(llm.acomplete(prompts(3)))
        await asyncio.sleep(0)
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(cancelled_mid_batch())
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    assert isinstance(llm.complete(prompts(1))[0], Response)
