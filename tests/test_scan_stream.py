"""The snapshot reader streams: items arrive one by one, without loading the file whole."""
from __future__ import annotations

import gzip
import json

import pytest

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
