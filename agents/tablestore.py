"""Faust tables seen through the small store interfaces of the rule engine, with write-back buffering.

Why buffering: the join agent must get the broker's acknowledgement for the write commands of an event
*before* its tables record that those writes were emitted. Otherwise a crash between the two would leave
the table saying "sent" for a command that never reached Kafka, and a replay would not send it again.
So reads go through a per-event buffer, and :meth:`flush` writes the buffer to the table after the sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

V = TypeVar("V")
_DELETED = object()


DEFAULT_CACHE_SIZE = 4096


class BufferedTableView(Generic[V]):
    """A dict-like view of part of a Faust table: ``key_of(k)`` gives the table key, values are decoded
    with ``decode`` and encoded with ``encode``. The ``cache_size`` most recently used decoded values are
    kept (decoding on every event is slow; keeping every student decoded would double the memory)."""

    def __init__(self, table: Any, key_of: Callable[[Any], Any], encode: Callable[[V], Any],
                 decode: Callable[[Any], V], keys_of_partition: Callable[[], Iterator[Any]] | None = None,
                 cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._table = table
        self._key_of = key_of
        self._encode = encode
        self._decode = decode
        self._keys_of_partition = keys_of_partition
        self._buffer: dict[Any, Any] = {}
        self._cache: dict[Any, tuple[Any, V]] = {}  # insertion order = least recently used first
        self._cache_size = cache_size

    def get(self, key: Any, default: V | None = None) -> V | None:
        if key in self._buffer:
            value = self._buffer[key]
            return default if value is _DELETED else value
        raw = self._table.get(self._key_of(key))
        if raw is None:
            return default
        cached = self._cache.pop(key, None)
        if cached is not None and cached[0] is raw:
            self._cache[key] = cached  # now the most recently used
            return cached[1]
        decoded = self._decode(raw)
        self._remember(key, raw, decoded)
        return decoded

    def _remember(self, key: Any, raw: Any, decoded: V) -> None:
        self._cache.pop(key, None)
        self._cache[key] = (raw, decoded)
        if len(self._cache) > self._cache_size:
            del self._cache[next(iter(self._cache))]

    def __getitem__(self, key: Any) -> V:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __setitem__(self, key: Any, value: V) -> None:
        self._buffer[key] = value

    def put(self, key: Any, value: V) -> None:
        self._buffer[key] = value

    def __delitem__(self, key: Any) -> None:
        self._buffer[key] = _DELETED

    def delete(self, key: Any) -> None:
        self._buffer[key] = _DELETED

    def pop(self, key: Any, default: Any = None) -> Any:
        value = self.get(key, default)
        self._buffer[key] = _DELETED
        return value

    def keys(self) -> Iterator[Any]:
        seen = set()
        for key, value in self._buffer.items():
            seen.add(key)
            if value is not _DELETED:
                yield key
        if self._keys_of_partition is not None:
            for key in self._keys_of_partition():
                if key not in seen:
                    yield key

    def __iter__(self) -> Iterator[Any]:
        return self.keys()

    def items(self) -> Iterator[tuple[Any, V]]:
        for key in list(self.keys()):
            value = self.get(key)
            if value is not None:
                yield key, value

    def values(self) -> Iterator[V]:
        for _, value in self.items():
            yield value

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def flush(self) -> None:
        """Write the buffered changes to the table (inside the current stream event)."""
        for key, value in self._buffer.items():
            table_key = self._key_of(key)
            if value is _DELETED:
                self._cache.pop(key, None)
                if table_key in self._table:
                    del self._table[table_key]
            else:
                self._table[table_key] = self._encode(value)
                self._remember(key, self._table.get(table_key), value)
        self._buffer.clear()

    def discard(self) -> None:
        self._buffer.clear()

    def stored(self, key: Any) -> Any:
        """The table's raw value for ``key`` as last flushed (None if absent), without decoding it."""
        return self._table.get(self._key_of(key))

    def mark(self) -> dict[Any, Any]:
        """A copy of the buffered changes, for :meth:`restore` if the event that follows fails."""
        return dict(self._buffer)

    def restore(self, mark: dict[Any, Any]) -> None:
        """Forget the buffered changes made since :meth:`mark` (a dead-lettered event changes nothing; the
        cache holds decoded *table* values, which the buffer never changes)."""
        self._buffer = dict(mark)

    def clear_cache(self) -> None:
        self._cache.clear()
