from __future__ import annotations

import pytest
import yaml

from tests.conftest import REPO
from weaklabel.audio.clips import ClipConfig
from weaklabel.audio.io import SAMPLE_RATE
from weaklabel.audio.mel import MelConfig
from weaklabel.errors import ParameterError
from weaklabel.params import DataConfig, load_params, read_params
from weaklabel.sources.manifest_ingest import LabelSourceConfig


def write(tmp_path, sections: dict):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(sections))
    return path


def test_the_repository_params_load_and_type():
    params = load_params(REPO / "params.yaml")
    assert params.section("clips", ClipConfig).sample_rate == params.section("mel", MelConfig).sample_rate
    assert params.data == DataConfig(
        corpus="data/demo", gold="data/demo/labels/gold.csv", manifest="", crosscorpus=()
    )


def test_no_file_means_defaults_and_the_defaults_satisfy_every_constraint():
    params = load_params(None)
    assert params.path is None and params.data == DataConfig() and params.raw("labels") == {}
    # The constraint checks rely on these defaults when a file leaves a key out.
    assert MelConfig().sample_rate == ClipConfig().sample_rate == SAMPLE_RATE
    assert LabelSourceConfig().source != "manifest"


@pytest.mark.parametrize(
    ("sections", "keys"),
    [
        ({"clips": {"sample_rate": 22050}}, ("clips.sample_rate is 22050", "mel.sample_rate is 16000")),
        ({"mel": {"sample_rate": 8000}}, ("clips.sample_rate is 16000", "mel.sample_rate is 8000")),
        (
            {"clips": {"sample_rate": 8000}, "mel": {"sample_rate": 22050}},
            ("clips.sample_rate is 8000", "mel.sample_rate is 22050"),
        ),
        ({"labels": {"source": "manifest"}}, ("labels.source is manifest", "data.manifest is empty")),
        (
            {"labels": {"source": "manifest"}, "data": {"manifest": ""}},
            ("labels.source", "data.manifest"),
        ),
    ],
)
def test_a_cross_section_conflict_names_both_keys(tmp_path, sections, keys):
    with pytest.raises(ParameterError) as error:
        load_params(write(tmp_path, sections))
    for key in keys:
        assert key in str(error.value)


def test_consistent_sections_pass(tmp_path):
    path = write(
        tmp_path,
        {
            "clips": {"sample_rate": 8000},
            "mel": {"sample_rate": 8000},
            "labels": {"source": "manifest"},
            "data": {"manifest": "m.csv", "crosscorpus": ["emodb:data/emodb", "x.csv"]},
        },
    )
    params = load_params(path)
    assert params.path == path
    assert params.data.crosscorpus == ("emodb:data/emodb", "x.csv")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"crosscorpus": "emodb:data/emodb"}, r"data\.crosscorpus must be a list"),
        ({"crosscorpus": ["a.csv", ""]}, r"data\.crosscorpus must be a list"),
        ({"corpus": 3}, r"data\.corpus must be a string, got 3"),
        ({"corpuss": "x"}, r"unknown parameter\(s\) data\.corpuss"),
    ],
)
def test_the_data_section_is_checked_for_every_command(tmp_path, data, match):
    with pytest.raises(ParameterError, match=match):
        load_params(write(tmp_path, {"data": data}))


def test_malformed_files_say_what_is_wrong(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="mapping of sections, found list"):
        read_params(path)
    path.write_text("labels: 0.2\n")
    with pytest.raises(ParameterError, match="section 'labels' .* must be a mapping of settings, found 0.2"):
        read_params(path)
    path.write_text("")
    assert read_params(path) == {}
