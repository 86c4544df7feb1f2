import csv
import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from indexer.catalog import load
from indexer.core.errors import CatalogError


def _write_jsonl(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_rejects_carry_file_line_and_reason(tmp_path):
    path = _write_jsonl(tmp_path / "c.jsonl", [
        json.dumps({"id": "1", "title": "good"}),
        "{not json",
        json.dumps({"id": "2"}),
        json.dumps([1, 2]),
        json.dumps({"id": "3", "title": "neg", "price": -5}),
        json.dumps({"id": "1", "title": "duplicate"}),
        json.dumps({"id": "4", "title": "也好"}),
    ])
    log = load.RejectLog()
    ids = [p.id for p in load.products([path], log)]
    assert ids == ["1", "4"]
    assert [(r.line, r.field) for r in log.rejects] == [(2, None), (3, "title"), (4, None), (5, "price"),
                                                         (6, "id")]
    assert "bad JSON" in log.rejects[0].reason and "duplicate id" in log.rejects[4].reason
    assert log.rejects[0].describe().startswith(f"{path}:2: ")
    assert log.rows == 7 and log.accepted == 2


def test_gzip_csv_and_parquet_sources(tmp_path):
    gz = tmp_path / "c.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "g1", "title": "gz row"}) + "\n")
    csv_path = tmp_path / "c.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "title", "price", "category"])
        writer.writerow(["c1", "抱枕", "19.9", '["家居", "抱枕"]'])
        writer.writerow(["c2", "bad price", "abc", ""])
    parquet = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": ["q1", "q2"], "title": ["parquet row", None]}), parquet)
    log = load.RejectLog()
    found = {p.id: p for p in load.products([gz, csv_path, parquet], log)}
    assert set(found) == {"g1", "c1", "q1"}
    assert found["c1"].price == 19.9 and found["c1"].category == ("家居", "抱枕")
    assert [(r.source.rsplit("/", 1)[-1], r.line, r.field) for r in log.rejects] == [
        ("c.csv", 3, "price"), ("c.parquet", 2, "title")]
    assert load.count_rows([gz, csv_path, parquet]) == 5


def test_unreadable_sources_raise(tmp_path):
    with pytest.raises(CatalogError, match="no such file"):
        list(load.products([tmp_path / "missing.jsonl"], load.RejectLog()))
    odd = tmp_path / "c.xml"
    odd.write_text("<x/>")
    with pytest.raises(CatalogError, match="unknown catalog format"):
        list(load.products([odd], load.RejectLog()))
    broken = tmp_path / "c.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(CatalogError, match="Parquet"):
        list(load.products([broken], load.RejectLog()))
