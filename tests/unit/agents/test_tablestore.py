"""Write-back buffering: nothing reaches the table until flush, and reads see the buffer first."""

from __future__ import annotations

from agents.tablestore import BufferedTableView


def test_buffer_then_flush() -> None:
    table: dict[str, dict[str, int]] = {"1": {"v": 1}}
    view: BufferedTableView[int] = BufferedTableView(table, str, lambda v: {"v": v}, lambda raw: raw["v"],
                                                     lambda: iter(int(k) for k in list(table)))
    assert view.get(1) == 1
    view.put(2, 20)
    view.delete(1)
    assert table == {"1": {"v": 1}}  # untouched until flush
    assert view.get(2) == 20 and view.get(1) is None and sorted(view.keys()) == [2]
    view.flush()
    assert table == {"2": {"v": 20}}
    view.put(3, 30)
    view.discard()
    assert view.get(3) is None and table == {"2": {"v": 20}}
