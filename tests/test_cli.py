"""The two shells: the ``weaklabel`` command (one subcommand per stage) and the DVC stage scripts."""

from __future__ import annotations

import ast
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.test_dvc_deps import STAGES, closure, stage_script
from weaklabel.cli import COMMANDS, build_parser, main

#: Stage flags whose command default is derived at run time rather than a fixed path:
#: probe's manifest is DIR/manifest.csv when present; crosscorpus keeps its stores in OUT/work.
DERIVED = {("probe", "--manifest"), ("crosscorpus", "--work-dir")}
#: A ./params.yaml that every command must refuse when it loads it.
CONFLICT = {"clips": {"sample_rate": 22050}, "mel": {"sample_rate": 16000}}


def subparser(name: str):
    """The ``name`` subcommand's parser, with its arguments added."""
    parser = build_parser(name)
    return next(a for a in parser._actions if a.dest == "command").choices[name]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_commands_are_the_stages():
    assert set(COMMANDS) == set(STAGES)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_of_every_command_shows_the_common_options_and_defaults(name, capsys):
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert f"usage: weaklabel {name}" in text
    for option in ("--params", "-v, --verbose", "-q, --quiet", "--out"):
        assert option in text
    assert "(default: " in text


def test_top_level_help_is_fast_and_imports_no_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert all(name in text for name in COMMANDS)
    code = (
        "import sys; from weaklabel.cli import build_parser; build_parser(); "
        "heavy = {'numpy', 'pandas', 'yaml', 'tensorflow'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env())
    command = [sys.executable, "-m", "weaklabel", "--help"]
    subprocess.run(command, check=True, cwd=REPO, env=env(), capture_output=True)  # warm the disk cache
    times = []
    for _ in range(3):
        start = time.perf_counter()
        done = subprocess.run(command, check=True, cwd=REPO, env=env(), capture_output=True, text=True)
        times.append(time.perf_counter() - start)
    assert "crosscorpus" in done.stdout
    print(f"python -m weaklabel --help: {min(times):.3f} s")  # under 0.5 s on a quiet machine
    assert min(times) < 1.0


@pytest.mark.parametrize(
    ("argv", "verbosity"),
    [
        (["split"], 0),
        (["split", "-v"], 1),
        (["split", "--quiet"], -1),
        (["-v", "split"], 1),
        (["-q", "split"], -1),
        (["-q", "split", "-v"], 1),
    ],
)
def test_verbosity_before_or_after_the_command(argv, verbosity):
    assert build_parser("split").parse_args(argv).verbosity == verbosity


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_reads_params_yaml_and_checks_it(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(CONFLICT))
    assert main([name]) == 2
    error = capsys.readouterr().err
    assert error.startswith("weaklabel: error: clips.sample_rate is 22050 but mel.sample_rate is 16000")
    assert error.count("\n") == 1
    (tmp_path / "other.yaml").write_text("labels:\n  source: manifest\n")
    assert main([name, "--params", "other.yaml"]) == 2
    assert "labels.source is manifest but data.manifest is empty" in capsys.readouterr().err


def test_demo_reads_params_yaml(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("demo:\n  videos: 0\n")
    assert main(["demo", "--out", "corpus"]) == 2
    assert "demo.videos must be >= 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "corpus").exists()


@pytest.mark.parametrize("name", sorted(STAGES))
def test_command_defaults_are_the_stage_paths(name):
    """``weaklabel <stage>`` alone reads and writes where ``dvc repro <stage>`` does."""
    parser = subparser(name)
    defaults = vars(parser.parse_args([]))
    positional = [a.dest for a in parser._actions if not a.option_strings]
    words = shlex.split(STAGES[name]["cmd"])[3:]
    flags = dict(zip(words[::2], words[1::2], strict=True))
    for flag, value in flags.items():
        dest = positional[0] if flag == "--in" else flag.lstrip("-").replace("-", "_")
        assert dest in defaults, f"weaklabel {name} has no option for the stage's {flag}"
        if "${" in value:  # from params data: the command reads it there too
            assert defaults[dest] is None, f"weaklabel {name}: {flag} should default to the params value"
        elif (name, flag) not in DERIVED:
            assert Path(defaults[dest]) == Path(value), f"weaklabel {name} {flag}"


def test_pipelines_import_nothing_from_the_cli():
    for script in sorted((REPO / "pipelines").glob("*.py")):
        tree = ast.parse(script.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [
            f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names
        ]
        assert not [n for n in names if n.startswith("weaklabel.cli")], script.name
        reached = closure(script.relative_to(REPO).as_posix())
        assert not [p for p in reached if p.startswith("weaklabel/cli/")], script.name


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_stage_script_runs_through_the_shell(name):
    source = (REPO / stage_script(STAGES[name]["cmd"])).read_text()
    assert source.rstrip().endswith('if __name__ == "__main__":\n    _stage.run(main)')


def test_a_stage_error_is_one_line_and_exit_code_2(tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(CONFLICT))
    command = [sys.executable, "-m", "pipelines.split", "--segments", "s", "--labels", "l", "--out", "o"]
    done = subprocess.run(command, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("pipelines.split: error: clips.sample_rate is 22050")
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_tensorflow_noise_is_silenced_unless_verbose():
    code = (
        "import logging, os; from weaklabel import shell; shell.configure({v}); "
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), logging.getLogger('absl').level)"
    )
    quiet = {k: v for k, v in env().items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    for verbosity, expected in ((0, "2 40"), (-1, "2 40"), (1, "None 0")):
        done = subprocess.run(
            [sys.executable, "-c", code.format(v=verbosity)], env=quiet, capture_output=True, text=True
        )
        assert done.stdout.split() == expected.split()


def test_train_without_a_split_says_how_to_make_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train"]) == 2
    error = capsys.readouterr().err
    assert "split table data/split/split.parquet not found" in error and "weaklabel split" in error


def test_crosscorpus_stage_without_corpora_says_it_is_not_configured(tmp_path, monkeypatch):
    from pipelines import crosscorpus as stage

    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"data": {"crosscorpus": []}}))
    stage.main(["--out", "reports/crosscorpus", "--work-dir", "data/crosscorpus"])
    meta = json.loads((tmp_path / "reports/crosscorpus/meta.json").read_text())
    assert meta["configured"] is False and "data.crosscorpus" in meta["reason"]
    assert (tmp_path / "data/crosscorpus").is_dir()  # DVC needs every output to exist


def test_crosscorpus_command_without_corpora_says_where_to_list_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["crosscorpus"]) == 2
    assert "pass MANIFEST arguments or list them in data.crosscorpus" in capsys.readouterr().err
