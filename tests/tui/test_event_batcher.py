"""EventBatcher: every runner event reaches the screen, in order, even at the very end."""

from __future__ import annotations

import asyncio
import threading

from studio.tui.generation import EventBatcher


async def test_events_added_while_the_last_batch_is_delivered_are_not_lost() -> None:
    delivered: list[int] = []
    in_delivery = threading.Event()
    release = threading.Event()

    def deliver(batch: list[int]) -> None:
        delivered.extend(batch)
        if batch == [1]:
            in_delivery.set()
            release.wait(5)

    batcher = EventBatcher(deliver, interval=0.01)
    done = asyncio.Event()
    batcher.add(1)
    pump = asyncio.create_task(batcher.pump(done))
    await asyncio.to_thread(in_delivery.wait, 5)
    # While batch [1] is still being handed over, the run ends with more events.
    batcher.add(2)
    batcher.add(3)
    done.set()
    release.set()
    await asyncio.wait_for(pump, 5)
    assert delivered == [1, 2, 3]


async def test_batches_keep_their_order_across_many_ticks() -> None:
    delivered: list[int] = []
    batcher = EventBatcher(delivered.extend, interval=0.001)
    done = asyncio.Event()
    pump = asyncio.create_task(batcher.pump(done))
    for value in range(500):
        batcher.add(value)
        if value % 50 == 0:
            await asyncio.sleep(0.002)
    done.set()
    await asyncio.wait_for(pump, 5)
    assert delivered == list(range(500))
