from __future__ import annotations

import pytest

from stream.agents.offsets import Hole, HoleRepair, find_holes

TP = ("findings", 0)


def holes(
    acked: list[int], committed: int | None, read: int | None, in_flight: tuple[int, ...] = ()
) -> list[Hole]:
    return find_holes({TP: acked}, {TP: committed}, {TP: read}, [(TP, o) for o in in_flight])


def test_acked_offsets_past_an_unacked_gap_the_fetcher_has_passed_are_a_hole() -> None:
    assert holes(list(range(16, 311)), committed=9, read=310) == [Hole(TP, 9, 16)]


@pytest.mark.parametrize("first_acked", [9, 10])
def test_acked_offsets_from_the_committed_one_or_one_after_are_no_hole(first_acked: int) -> None:
    # Faust commits past one missing offset itself, so only two or more stall it.
    assert holes(list(range(first_acked, 20)), committed=9, read=19) == []


def test_a_gap_whose_message_is_being_processed_is_no_hole() -> None:
    assert holes(list(range(16, 30)), committed=9, read=29, in_flight=(12,)) == []


def test_a_gap_the_fetcher_has_not_read_past_is_no_hole() -> None:
    assert holes(list(range(16, 30)), committed=9, read=12) == []


def test_a_partition_never_committed_is_no_hole() -> None:
    assert holes([16, 17], committed=None, read=17) == []


def test_a_hole_is_due_for_repair_only_when_seen_twice_in_a_row() -> None:
    repair = HoleRepair()
    hole = Hole(TP, 9, 16)
    assert repair.due([hole]) == []
    assert repair.due([hole]) == [hole]
    assert repair.due([hole]) == []  # just repaired: give the seek a look to take effect


def test_a_hole_that_moved_is_not_due() -> None:
    repair = HoleRepair()
    repair.due([Hole(TP, 9, 16)])
    assert repair.due([Hole(TP, 12, 16)]) == []
