"""The result store's text columns against plain Python lists."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.normalization.results import TextColumn

# Any text Arrow can hold (UTF-8: no lone surrogates), empty strings and multi-byte ones too.
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    batches=st.lists(st.lists(texts, max_size=6), min_size=1, max_size=6),
    data=st.data(),
)
def test_text_column_is_a_list_of_texts(batches, data):
    column, reference = TextColumn(), []
    for batch in batches:
        column.extend(batch)
        reference += batch
        assert column.size == len(reference)
        if reference:
            rows = data.draw(st.lists(st.integers(0, len(reference) - 1), max_size=10))
            taken = column.take(pa.array(rows, type=pa.int64()))
            assert taken.to_pylist() == [reference[row] for row in rows]
        mask = np.array(
            data.draw(st.lists(st.booleans(), min_size=len(reference), max_size=len(reference))),
            dtype=bool,
        )
        column.keep(mask)
        reference = [text for text, kept in zip(reference, mask, strict=True) if kept]
        assert column.size == len(reference)
        assert column.take(pa.array(range(len(reference)), type=pa.int64())).to_pylist() == (
            reference
        )


def test_text_column_grows_while_taken_texts_live():
    column = TextColumn()
    column.extend(["José", ""])
    # Taken texts are copies: kept alive (as output columns are), they must not pin the buffer
    # the next extend grows (a live view would make it raise BufferError).
    taken = [column.take(pa.array([1, 0])), column.take(pa.array([0, 1]))]
    column.extend(["x" * 10_000] * 3)
    column.keep(np.ones(column.size, dtype=bool))
    kept = column.take(pa.array(range(column.size)))
    column.extend(["y"])
    assert [t.to_pylist() for t in taken] == [["", "José"], ["José", ""]]
    assert kept.to_pylist() == ["José", "", *["x" * 10_000] * 3]
    assert column.take(pa.array([0, 5])).to_pylist() == ["José", "y"]
