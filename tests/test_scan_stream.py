"""The snapshot reader streams: items arrive one by one, without loading the file whole."""
from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perimeter.jsoninput as jsoninput
from perimeter.scan import ScanInputError, read_items


def _snapshot_text(count: int) -> str:
    items = [{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": f"sg-{n:017x}"} for n in range(count)]
    return json.dumps({"fileVersion": "1.0", "configSnapshotId": "x", "configurationItems": items})


def test_items_arrive_before_a_broken_tail_is_read(tmp_path):
    text = _snapshot_text(3)
    path = tmp_path / "truncated.json"
    path.write_text(text[: text.rindex("}") - 10])  # cut inside the last item

    stream = read_items(path)
    assert next(stream)["resourceId"] == "sg-00000000000000000"
    assert next(stream)["resourceId"] == "sg-00000000000000001"
    with pytest.raises(ScanInputError, match="truncated.json: invalid JSON"):
        list(stream)


def test_gzip_snapshot_streams_every_item(tmp_path):
    path = tmp_path / "snapshot.json.gz"
    with gzip.open(path, "wt") as stream:
        stream.write(_snapshot_text(2500))

    ids = [item["resourceId"] for item in read_items(path)]

    assert len(ids) == 2500 and len(set(ids)) == 2500


def test_snapshot_keys_before_and_after_the_items(tmp_path):
    path = tmp_path / "snapshot.json"
    path.write_text('{"fileVersion": "1.0", "configurationItems": [{"resourceId": "a"}], "trailer": {"x": [1]}}')

    assert list(read_items(path)) == [{"resourceId": "a"}]


def test_numbers_are_plain_python_numbers(tmp_path):
    path = tmp_path / "items.json"
    path.write_text('[{"configurationStateId": 1763633742123, "ratio": 0.5}]')

    assert list(read_items(path)) == [{"configurationStateId": 1763633742123, "ratio": 0.5}]


# Any JSON value an item may hold: the decoder must give exactly what json.loads gives, wherever the
# reading window happens to cut the text (numbers, escapes, multi-byte characters, nesting).
_scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False) | st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(
    items=st.lists(st.dictionaries(st.text(max_size=8), _values, max_size=5), max_size=6),
    before=st.dictionaries(st.sampled_from(["fileVersion", "configSnapshotId", "x"]), _values, max_size=2),
    chunk=st.integers(1, 64),
    indent=st.sampled_from([None, 1, "\t"]),
    as_array=st.booleans(),
)
def test_streamed_items_equal_json_loads_for_any_window(tmp_path_factory, items, before, chunk, indent, as_array):
    document = items if as_array else {**before, "configurationItems": items, "after": before}
    path = tmp_path_factory.mktemp("stream") / "items.json"
    path.write_text(json.dumps(document, indent=indent, ensure_ascii=False), encoding="utf-8")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsoninput, "CHUNK", chunk)
        streamed = list(read_items(path))

    assert streamed == items


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(cut=st.integers(0, 600), chunk=st.integers(1, 32), indent=st.sampled_from([None, 1]))
def test_any_truncation_is_json_loads_own_error_at_its_line_and_column(tmp_path_factory, cut, chunk, indent):
    """The reader sees the text through a small window, yet names the fault as json.loads does on the whole."""
    items = [{"resourceId": f"sg-{n}", "configuration": {"ports": [n, n + 1.5], "name": "é\\\"x"}} for n in range(6)]
    text = json.dumps({"fileVersion": "1.0", "configurationItems": items, "after": {"x": [1]}}, indent=indent)
    text = text[: min(cut, len(text) - 1)]
    path = tmp_path_factory.mktemp("cut") / "items.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(json.JSONDecodeError) as whole:
        json.loads(text)

    streamed = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsoninput, "CHUNK", chunk)
        with pytest.raises(ScanInputError) as error:
            for item in read_items(path):
                streamed.append(item)

    assert streamed == items[: len(streamed)]
    expected = f"invalid JSON: {whole.value.msg} at line {whole.value.lineno} column {whole.value.colno}"
    assert str(error.value) == f"{path}: {expected}"
