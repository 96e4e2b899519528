"""``fenghuo worker``'s start-up: the heap it built is kept out of later garbage collections."""

from __future__ import annotations

import gc

from fenghuo.commands.worker import _freeze_startup_heap


def walked_by_collections() -> set[int]:
    """Ids of the objects a collection of any generation walks."""
    return {id(obj) for generation in range(3) for obj in gc.get_objects(generation)}


def test_the_start_up_heap_is_frozen_out_of_later_collections() -> None:
    built_at_start: list[list[int]] = [[n] for n in range(1000)]
    try:
        _freeze_startup_heap()
        built_later: list[list[int]] = [[n] for n in range(10)]

        walked = walked_by_collections()
        assert gc.get_freeze_count() >= len(built_at_start)
        assert not walked & {id(x) for x in built_at_start}
        assert {id(x) for x in built_later} <= walked
    finally:
        gc.unfreeze()
