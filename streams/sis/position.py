"""A change's position in its source database, as one integer for "older changes are ignored".

The contract's ``source.seq`` wins when it is there. Otherwise the connector's own position is used:

* PostgreSQL: ``lsn`` (an int64, the WAL position of the change);
* SQL Server: ``change_lsn`` (``"0000002b:00000a58:0003"``: VLF, block, slot: 80 bits), or
  ``commit_lsn`` when there is no change LSN, and ``event_serial_no``. The 80-bit LSN is kept as its
  low 60 bits, shifted left 3 bits for the serial number: the events of one row compared by the worker
  are seconds or days apart, never 2**44 VLFs;
* MySQL: ``file`` (``mysql-bin.000003``), ``pos`` and ``row``.

The worker orders the versions of a row by ``(ts_ms, position)`` (streams/rules/state.py): the
connector's processing time first (Debezium emits in commit order), the position for changes in the
same millisecond. Without either, ``ts_ms`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_LOW60 = (1 << 60) - 1
_MAX_LONG = (1 << 63) - 1


def _sqlserver_lsn(text: Any) -> int | None:
    if not isinstance(text, str) or text.count(":") != 2:
        return None
    try:
        vlf, block, slot = (int(part, 16) for part in text.split(":"))
    except ValueError:
        return None
    return (vlf << 48) | (block << 16) | slot


def source_position(source: Mapping[str, Any] | None) -> int | None:
    """The order of a change within its source, or None when the source block has no usable position."""
    if not isinstance(source, Mapping):
        return None
    seq = source.get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool):
        return seq
    lsn = source.get("lsn")
    if isinstance(lsn, int) and not isinstance(lsn, bool):  # PostgreSQL
        return lsn
    change = _sqlserver_lsn(source.get("change_lsn")) or _sqlserver_lsn(source.get("commit_lsn"))
    if change is not None:  # SQL Server
        serial = source.get("event_serial_no")
        serial = serial if isinstance(serial, int) and 0 <= serial < 8 else 0
        return ((change & _LOW60) << 3) | serial
    pos = source.get("pos")
    name = source.get("file")
    if isinstance(pos, int) and isinstance(name, str):  # MySQL
        digits = name.rsplit(".", 1)[-1]
        number = int(digits) if digits.isdigit() else 0
        row = source.get("row")
        row = row if isinstance(row, int) and 0 <= row < 256 else 0
        return min(((number & 0x7FFFF) << 40 | (pos & (1 << 32) - 1) << 8 | row), _MAX_LONG)
    return None


__all__ = ["source_position"]
