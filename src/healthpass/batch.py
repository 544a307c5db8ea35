"""Ordered, streaming, bounded-memory batch execution over any ``concurrent.futures.Executor``.

Standard library only. Items are cut into chunks; at most ``max_in_flight`` chunks are submitted at once
and results are yielded in input order, so memory stays flat whatever the input size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # annotations only: concurrent.futures imports logging (gain: benchmarks/README.md, start-up)
    from concurrent.futures import Executor, Future

__all__ = ["ordered_chunks"]

T = TypeVar("T")
R = TypeVar("R")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def ordered_chunks(
    executor: Executor | None,
    fn: Callable[[Any, list[T]], list[R]],
    context: Any,
    items: Iterable[T],
    chunk_size: int,
    *,
    max_in_flight: int | None = None,
) -> Iterator[R]:
    """Apply ``fn(context, chunk)`` to consecutive chunks of ``items``; yield results in input order.

    Without an executor the work runs in this thread. ``fn`` and ``context`` must be picklable for
    process-based executors.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    if executor is None:
        for chunk in _chunks(items, chunk_size):
            yield from fn(context, chunk)
        return
    limit = max_in_flight or 4 * max(1, getattr(executor, "_max_workers", 2))
    pending: deque[Future[list[R]]] = deque()
    for chunk in _chunks(items, chunk_size):
        pending.append(executor.submit(fn, context, chunk))
        if len(pending) >= limit:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()
