from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tests.conftest import REPO
from weaklabel.errors import ParameterError
from weaklabel.metrics import _levels, _weighted_auc, bootstrap_auc, paired_bootstrap_auc, roc_auc, roc_points


def test_known_cases():
    y = np.array([0, 0, 1, 1, 0, 1])
    assert roc_auc(y, y.astype(float)) == 1.0
    assert roc_auc(y, -y.astype(float)) == 0.0
    assert roc_auc(y, np.zeros(6)) == 0.5
    assert np.isnan(roc_auc(np.ones(4), np.arange(4.0)))


def test_matches_sklearn_with_ties(rng):
    y = rng.integers(0, 2, 500)
    scores = np.round(y * 0.3 + rng.normal(0, 1, 500), 1)  # many ties
    assert roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


def test_weighted_replicate_equals_auc_of_repeated_rows(rng):
    y = rng.integers(0, 2, 60).astype(float)
    scores = np.round(rng.normal(size=60), 1)
    counts = rng.integers(0, 4, 60)
    order, y_sorted, starts = _levels(y, scores)
    weighted = _weighted_auc(counts[order][None, :].astype(float), y_sorted, starts)[0]
    repeated = np.repeat(np.arange(60), counts)
    assert weighted == pytest.approx(roc_auc_score(y[repeated], scores[repeated]), abs=1e-12)


@pytest.mark.parametrize(
    ("y", "scores"),
    [
        (np.array([0, 1, 2]), np.arange(3.0)),
        (np.array([0, 1, -1]), np.arange(3.0)),
        (np.array([0, 1, 1]), np.array([0.1, np.nan, 0.3])),
        (np.array([0, 1]), np.arange(3.0)),
    ],
)
def test_invalid_inputs(y, scores):
    with pytest.raises(ParameterError):
        roc_auc(y, scores)


def test_bootstrap_interval_contains_the_estimate(rng):
    y = rng.integers(0, 2, 300)
    scores = y + rng.normal(0, 1.5, 300)
    est = bootstrap_auc(y, scores, groups=np.arange(300) // 6, n_boot=500, seed=1)
    assert est.low <= est.auc <= est.high
    assert est.auc == pytest.approx(roc_auc_score(y, scores))
    assert est.n == 300 and est.n_groups == 50 and est.n_valid == 500
    assert est.n_pos + est.n_neg == 300
    assert 0.02 < est.high - est.low < 0.3


def test_bootstrap_perfect_and_constant():
    y = np.tile([0, 1], 20)
    perfect = bootstrap_auc(y, y.astype(float), groups=np.arange(40) // 4, n_boot=100)
    assert (perfect.auc, perfect.low, perfect.high) == (1.0, 1.0, 1.0)
    flat = bootstrap_auc(y, np.full(40, 0.3), groups=np.arange(40) // 4, n_boot=100)
    assert (flat.auc, flat.low, flat.high) == (0.5, 0.5, 0.5)


def test_bootstrap_is_seeded(rng):
    y = rng.integers(0, 2, 100)
    scores = rng.normal(size=100)
    a = bootstrap_auc(y, scores, n_boot=200, seed=5)
    b = bootstrap_auc(y, scores, n_boot=200, seed=5)
    c = bootstrap_auc(y, scores, n_boot=200, seed=6)
    assert a == b
    assert (a.low, a.high) != (c.low, c.high)


def test_grouped_resampling_widens_the_interval_for_correlated_groups(rng):
    # Each video shares its label and a score offset: 40 videos, not 400 independent clips.
    video_label = rng.integers(0, 2, 40)
    video_offset = rng.normal(0, 1, 40)
    groups = np.repeat(np.arange(40), 10)
    y = video_label[groups]
    scores = 0.5 * y + video_offset[groups] + rng.normal(0, 0.1, 400)
    rows = bootstrap_auc(y, scores, n_boot=400, seed=0)
    videos = bootstrap_auc(y, scores, groups=groups, n_boot=400, seed=0)
    assert videos.auc == rows.auc
    assert videos.high - videos.low > 2 * (rows.high - rows.low)


def test_bootstrap_skips_one_class_replicates_and_single_class_input():
    # Two videos, one of each class: half the replicates draw one video twice.
    y = np.array([0, 0, 1, 1])
    est = bootstrap_auc(y, np.array([0.1, 0.2, 0.8, 0.9]), groups=np.array(["a", "a", "b", "b"]), n_boot=200)
    assert 0 < est.n_valid < 200
    single = bootstrap_auc(np.ones(5), np.arange(5.0), n_boot=10)
    assert np.isnan(single.auc) and single.to_dict()["auc"] is None


def test_too_few_groups_give_no_interval(rng):
    y = np.tile([0, 1], 30)
    scores = y + rng.normal(0, 1, 60)
    one_video = bootstrap_auc(y, scores, groups=np.zeros(60), n_boot=50)
    assert one_video.auc == pytest.approx(roc_auc(y, scores))
    assert np.isnan(one_video.low) and np.isnan(one_video.high) and one_video.n_valid == 0
    assert one_video.to_dict()["low"] is None
    four = bootstrap_auc(y, scores, groups=np.arange(60) % 4, n_boot=50, min_groups=5)
    assert np.isnan(four.low) and four.n_groups == 4
    assert not np.isnan(bootstrap_auc(y, scores, groups=np.arange(60) % 5, n_boot=50, min_groups=5).low)


def test_bootstrap_parameter_checks():
    y, s = np.array([0, 1]), np.array([0.0, 1.0])
    with pytest.raises(ParameterError):
        bootstrap_auc(y, s, n_boot=0)
    with pytest.raises(ParameterError):
        bootstrap_auc(y, s, level=1.0)
    with pytest.raises(ParameterError):
        bootstrap_auc(y, s, groups=np.array([1, 2, 3]))
    with pytest.raises(ParameterError):
        bootstrap_auc(y, s, min_groups=1)


def test_roc_points(rng):
    y = rng.integers(0, 2, 200)
    scores = np.round(y + rng.normal(size=200), 1)
    fpr, tpr = roc_points(y, scores)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all()
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(roc_auc(y, scores), abs=1e-12)
    with pytest.raises(ParameterError, match="both classes"):
        roc_points(np.zeros(3), np.arange(3.0))


def test_one_roc_auc_in_the_library():
    """Every ROC AUC of the library comes from weaklabel.metrics, none from scikit-learn directly."""
    others = [
        str(path.relative_to(REPO))
        for path in (REPO / "weaklabel").rglob("*.py")
        if path.name != "metrics.py" and "roc_auc_score" in path.read_text()
    ]
    assert others == []


def test_paired_difference_of_identical_models_is_exactly_zero(rng):
    y = rng.integers(0, 2, 300)
    s = y + rng.normal(0, 1, 300)
    diff = paired_bootstrap_auc(y, s, s.copy(), groups=np.arange(300) // 10, n_boot=300)
    assert diff.diff == diff.low == diff.high == 0.0 and diff.n_valid == 300 and diff.n_groups == 30


def test_paired_difference_finds_the_better_model_and_matches_the_aucs(rng):
    y = rng.integers(0, 2, 400)
    good, weak = y + rng.normal(0, 0.5, 400), y + rng.normal(0, 2.5, 400)
    groups = np.arange(400) // 10
    diff = paired_bootstrap_auc(y, good, weak, groups=groups, n_boot=400, seed=3)
    assert diff.low > 0 and diff.auc_a == roc_auc(y, good) and diff.auc_b == roc_auc(y, weak)
    assert abs(diff.diff - (diff.auc_a - diff.auc_b)) < 1e-12
    flipped = paired_bootstrap_auc(y, weak, good, groups=groups, n_boot=400, seed=3)
    assert flipped.high < 0 and flipped.to_dict()["diff"] == round(-diff.diff, 4)
    # Pairing narrows the interval: narrower than the two unpaired intervals combined.
    a = bootstrap_auc(y, good, groups=groups, n_boot=400, seed=3)
    b = bootstrap_auc(y, weak, groups=groups, n_boot=400, seed=3)
    assert diff.high - diff.low < (a.high - a.low) + (b.high - b.low)
    again = paired_bootstrap_auc(y, good, weak, groups=groups, n_boot=400, seed=3)
    assert again == diff


def test_paired_difference_without_enough_groups_or_a_class(rng):
    y = rng.integers(0, 2, 50)
    s = rng.normal(size=50)
    few = paired_bootstrap_auc(y, s, -s, groups=np.zeros(50), n_boot=50)
    assert np.isnan(few.low) and few.n_valid == 0 and np.isfinite(few.diff)
    one = paired_bootstrap_auc(np.ones(50), s, -s, n_boot=50)
    assert np.isnan(one.diff) and one.to_dict()["diff"] is None
    with pytest.raises(ParameterError):
        paired_bootstrap_auc(y, s, s[:10])
