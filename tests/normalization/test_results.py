"""The result store: its text columns against plain Python lists, results in both forms."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.normalization.encoded import CHANGED, INVALID, NULL, UNCHANGED, encode, encode_texts
from nbjobs.normalization.fields import FieldResult
from nbjobs.normalization.results import ResultStore, TextColumn

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
        column.append(*encode_texts(batch))
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


@settings(max_examples=200, deadline=None)
@given(batch=st.lists(texts | st.text(st.characters(max_codepoint=127), max_size=8), max_size=8))
def test_texts_are_encoded_as_each_one_is(batch):
    data, lengths = encode_texts(batch)
    encoded = [text.encode() for text in batch]
    assert data == b"".join(encoded)
    assert list(lengths) == [len(text) for text in encoded]


def test_text_column_grows_while_taken_texts_live():
    column = TextColumn()
    column.append(*encode_texts(["José", ""]))
    # Taken texts are copies: kept alive (as output columns are), they must not pin the buffer
    # the next append grows (a live view would make it raise BufferError).
    taken = [column.take(pa.array([1, 0])), column.take(pa.array([0, 1]))]
    column.append(*encode_texts(["x" * 10_000] * 3))
    column.keep(np.ones(column.size, dtype=bool))
    kept = column.take(pa.array(range(column.size)))
    column.append(*encode_texts(["y"]))
    assert [t.to_pylist() for t in taken] == [["", "José"], ["José", ""]]
    assert kept.to_pylist() == ["José", "", *["x" * 10_000] * 3]
    assert column.take(pa.array([0, 5])).to_pylist() == ["José", "y"]


def test_store_takes_results_as_objects_or_encoded_alike():
    values = ["a", "b ", "", "José"]
    results = [
        FieldResult("A", ("x", ""), None, ("case_fixed",)),
        FieldResult(None, ("", ""), "bad", ()),
        FieldResult(None, ("", ""), None, ()),
        FieldResult("José", ("é", "ü"), None, ()),
    ]
    plain, encoded = ResultStore(3, 10, 2**20), ResultStore(3, 10, 2**20)
    assert plain.add(values, results) == encoded.add(values, encode(values, results)) == range(4)
    rows = pa.array([3, 0, 1, 2])
    for one, other in zip(plain.texts, encoded.texts, strict=True):
        assert one.take(rows).to_pylist() == other.take(rows).to_pylist()
    assert plain.texts[0].take(rows).to_pylist() == ["José", "A", "", ""]
    statuses = [CHANGED, INVALID, NULL, UNCHANGED]
    assert plain.status[:4].tolist() == encoded.status[:4].tolist() == statuses
    assert plain.notes_ids[:4].tolist() == encoded.notes_ids[:4].tolist() == [1, 0, 0, 0]
    assert plain.reason_ids[:4].tolist() == encoded.reason_ids[:4].tolist() == [0, 1, 0, 0]
    with pytest.raises(ValueError, match="3 results for 4 values"):
        plain.add(values, encode(values[:3], results[:3]))


def contact_results(start: int, count: int) -> tuple[list[str], list[FieldResult]]:
    values = [f"person{n}@example{n % 97}.org" for n in range(start, start + count)]
    results = [FieldResult(v.upper(), (v.split("@")[0], v.split("@")[1]), None, ()) for v in values]
    return values, results


def test_the_store_holds_at_most_max_bytes_the_oldest_leaving_first():
    store = ResultStore(3, 1_000_000, 200_000)
    for start in range(0, 5_000, 500):
        store.add(*contact_results(start, 500))
        store.compact([])
        indexed = list(store.index.values())
        assert store.indexed_bytes == int(store.row_bytes[indexed].sum()) <= 200_000
    kept = sorted(int(value.removeprefix("person").split("@")[0]) for value in store.index)
    assert kept == list(range(5_000 - len(kept), 5_000))  # the newest ones
    assert 500 < len(kept) < 5_000
    # A value parsed again while still held (two chunks lacked it at once) is counted once.
    again = store.add(*contact_results(4_999, 1))
    assert store.index["person4999@example52.org"] == again[0]
    assert store.indexed_bytes == int(store.row_bytes[list(store.index.values())].sum())


def test_the_bytes_counted_are_what_the_store_holds():
    store = ResultStore(3, 1_000_000, 2**30)
    values, results = contact_results(0, 20_000)
    encoded = encode(values, results)
    del results
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store.add(values, encoded)
    store.compact([])
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # The values themselves existed before (held is without them): add their strings back.
    held += sum(49 + len(value) for value in values)
    assert 0.7 < held / store.indexed_bytes < 1.5, (held, store.indexed_bytes)


def test_no_bytes_means_no_cache():
    store = ResultStore(3, 100, 0)
    store.add(*contact_results(0, 10))
    assert not store.index and store.indexed_bytes == 0
