"""ods.json's writer gives exactly the text of ``json.dumps(value, indent=2, sort_keys=True)``."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from streams.simulate.pretty import dumps_indented

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=30)


@given(values)
def test_same_text_as_json_dumps(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, sort_keys=True)


def test_edge_values_and_what_it_hands_to_json_dumps() -> None:
    record = {"b": [], "a": {}, "é": "naïve \u2028 \"q\" \\", "n": [math.nan, math.inf, -math.inf, 1e16, -0.0],
              "t": (1, 2), "nested": [[{"z": None, "y": True}], [1, [2, []]]]}
    assert dumps_indented(record) == json.dumps(record, indent=2, sort_keys=True)
    assert dumps_indented({10: "a", 9: "b"}) == json.dumps({10: "a", 9: "b"}, indent=2, sort_keys=True)
    assert dumps_indented([{"id": "x", "_etag": "1"}]) == '[\n  {\n    "_etag": "1",\n    "id": "x"\n  }\n]'
