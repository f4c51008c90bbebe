import pandas as pd
import pyarrow as pa
import pytest

from weaklabel.errors import DataError
from weaklabel.tables import read_table, rejects_frame, write_rejects, write_table

SCHEMA = pa.schema([("segment_id", pa.string()), ("score", pa.float64())])


def test_round_trip_keeps_schema_order(tmp_path):
    frame = pd.DataFrame({"score": [0.5, -0.1], "segment_id": ["a___1", "a___2"]})
    path = write_table(frame, tmp_path / "sub" / "t.parquet", schema=SCHEMA)
    back = read_table(path)
    assert list(back.columns) == ["segment_id", "score"]
    assert back["score"].tolist() == [0.5, -0.1]


def test_schema_mismatch_is_reported(tmp_path):
    with pytest.raises(DataError, match=r"missing \['score'\], extra \['other'\]"):
        write_table(pd.DataFrame({"segment_id": ["a"], "other": [1]}), tmp_path / "t.parquet", schema=SCHEMA)


def test_missing_table_names_what_to_run(tmp_path):
    with pytest.raises(DataError, match="run the stage"):
        read_table(tmp_path / "absent.parquet")


def test_rejects_table(tmp_path):
    frame = rejects_frame(
        [
            {"source": "v.txt", "key": "v___1", "reason": "empty_text"},
            {"source": "v.txt", "key": "3", "reason": "bad", "detail": "x"},
        ],
        stage="ingest",
    )
    path = write_rejects(frame, tmp_path / "rejects.parquet")
    back = read_table(path)
    assert back["stage"].tolist() == ["ingest", "ingest"]
    assert back["detail"].tolist() == ["", "x"]
    assert len(write_rejects(rejects_frame([], stage="label"), tmp_path / "empty.parquet").name) > 0
