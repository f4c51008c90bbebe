from dataclasses import dataclass

import pytest

from weaklabel.config import from_mapping
from weaklabel.errors import ParameterError
from weaklabel.params import load_params


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


def test_params_sections_as_configs(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("labels:\n  threshold: 0.5\nother:\n  x: 1\n")
    assert load_params(params).section("labels", Example).threshold == 0.5
    assert load_params(params).section("missing", Example) == Example()
    assert load_params(None).section("labels", Example) == Example()


def test_missing_params_file_says_what_to_do(tmp_path):
    with pytest.raises(ParameterError, match="--params"):
        load_params(tmp_path / "nope.yaml")
