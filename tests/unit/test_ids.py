"""New ids are version 4 UUIDs, all different, and a forked child never repeats its parent's."""

from __future__ import annotations

import os
from uuid import UUID

from domain.ids import new_id


def test_ids_are_random_version_4_uuids_never_repeated() -> None:
    ids = [new_id() for _ in range(5_000)]  # the buffer is refilled many times over

    assert len(set(ids)) == len(ids)
    assert {i.version for i in ids} == {4}
    assert {i.variant for i in ids} == {"specified in RFC 4122"}


def test_a_forked_child_does_not_take_its_parents_next_ids() -> None:
    new_id()  # the parent has bytes left in its buffer
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writer, new_id().bytes)
        os._exit(0)
    os.close(writer)
    childs = UUID(bytes=os.read(reader, 16))
    os.close(reader)
    os.waitpid(child, 0)

    assert childs != new_id()
