from dataclasses import dataclass

import pytest

from weaklabel.cli._params import load_section
from weaklabel.config import from_mapping
from weaklabel.errors import ParameterError


@dataclass(frozen=True)
class Example:
    threshold: float = 0.2
    combine: str = "mean"


def test_defaults_fill_the_gaps():
    assert from_mapping(Example, {"threshold": 0.3}) == Example(threshold=0.3)
    assert from_mapping(Example, None) == Example()


def test_unknown_key_names_the_section_and_the_known_keys():
    with pytest.raises(ParameterError, match=r"labels\.treshold.*labels\.combine, labels\.threshold"):
        from_mapping(Example, {"treshold": 0.3}, section="labels")


def test_load_section_reads_params_yaml(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("labels:\n  threshold: 0.5\nother:\n  x: 1\n")
    assert load_section(params, "labels", Example).threshold == 0.5
    assert load_section(params, "missing", Example) == Example()
    assert load_section(None, "labels", Example) == Example()


def test_missing_params_file_says_what_to_do(tmp_path):
    with pytest.raises(ParameterError, match="--params"):
        load_section(tmp_path / "nope.yaml", "labels", Example)
