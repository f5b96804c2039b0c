"""Tests of helpers.toy: the synthetic problems and the transparent k-means."""

import numpy as np
import pytest
from sklearn.cluster import KMeans

from helpers import toy


@pytest.mark.parametrize("make", [toy.make_moons_problem, toy.make_stripes_problem,
                                  toy.make_gaussian_classes])
def test_generators_shapes_balance_and_seed(make):
    X, y = make(n_samples=200, random_state=3)
    assert X.ndim == 2 and len(X) == len(y) == 200
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    assert 0.3 < y.mean() < 0.7
    X2, y2 = make(n_samples=200, random_state=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(n_samples=200, random_state=4)
    assert not np.allclose(X, X3)


def test_stripes_classes_cut_across_clusters():
    X, y = toy.make_stripes_problem(n_samples=400, gap=3.0, random_state=0)
    np.testing.assert_array_equal(y, (X[:, 0] > 0).astype(int))
    upper = X[:, 1] > 0
    assert upper.mean() == pytest.approx(0.5)
    # each stripe (cluster) holds both classes in similar shares
    for stripe in (upper, ~upper):
        assert 0.35 < y[stripe].mean() < 0.65


def test_gaussian_classes_differ_along_first_axis_only():
    X, y = toy.make_gaussian_classes(n_samples=4000, n_features=5, separation=4.0, random_state=0)
    gap = X[y == 1].mean(axis=0) - X[y == 0].mean(axis=0)
    assert gap[0] == pytest.approx(4.0, abs=0.15)
    assert np.all(np.abs(gap[1:]) < 0.15)


@pytest.mark.parametrize("make, kwargs, match", [
    (toy.make_moons_problem, {"n_samples": 2}, "n_samples"),
    (toy.make_moons_problem, {"n_samples": 10.5}, "n_samples"),
    (toy.make_moons_problem, {"noise": -1}, "noise"),
    (toy.make_stripes_problem, {"gap": float("nan")}, "gap"),
    (toy.make_stripes_problem, {"width": 0}, "width"),
    (toy.make_gaussian_classes, {"n_features": 0}, "n_features"),
    (toy.make_gaussian_classes, {"separation": -2}, "separation"),
])
def test_generators_reject_bad_input(make, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)


def test_distortion_known_case_and_nearest_default():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 0.0]])
    centers = np.array([[1.0, 0.0], [10.0, 0.0]])
    assert toy.kmeans_distortion(X, centers) == pytest.approx(2 / 3)
    assert toy.kmeans_distortion(X, centers, np.array([0, 0, 0])) == pytest.approx((1 + 1 + 81) / 3)


def test_distortion_bad_input():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="2-D"):
        toy.kmeans_distortion(np.zeros((3, 2, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="centers"):
        toy.kmeans_distortion(X, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="labels"):
        toy.kmeans_distortion(X, np.zeros((2, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="0..1"):
        toy.kmeans_distortion(X, np.zeros((2, 2)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="NaN"):
        toy.kmeans_distortion(np.array([[np.nan, 0.0]]), np.zeros((1, 2)))


def test_lloyd_never_increases_and_matches_sklearn():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.5, size=(50, 2)) for c in ((0, 0), (4, 0), (0, 4))])
    init = X[[0, 1, 2]]  # a poor start: three points of the same blob
    res = toy.lloyd_kmeans(X, init=init)
    assert res.converged and res.n_iter >= 2
    assert np.all(np.diff(res.distortions) <= 1e-12)
    assert len(res.distortions) == len(res.center_history) == res.n_iter + 1
    assert res.distortions[-1] == pytest.approx(toy.kmeans_distortion(X, res.centers, res.labels))
    ref = KMeans(n_clusters=3, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    assert res.distortions[-1] * len(X) == pytest.approx(ref.inertia_, rel=1e-9)
    np.testing.assert_allclose(np.sort(res.centers, axis=0), np.sort(ref.cluster_centers_, axis=0))
    np.testing.assert_array_equal(init, X[[0, 1, 2]])  # init is not modified


def test_lloyd_random_init_is_seeded():
    X, _ = toy.make_moons_problem(n_samples=60, random_state=0)
    a = toy.lloyd_kmeans(X, 3, random_state=1)
    b = toy.lloyd_kmeans(X, 3, random_state=1)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_lloyd_max_iter_stops_early():
    X, _ = toy.make_moons_problem(n_samples=200, random_state=0)
    res = toy.lloyd_kmeans(X, 8, max_iter=1, random_state=0)
    assert res.n_iter == 1 and len(res.distortions) == 2


@pytest.mark.parametrize("kwargs, match", [
    ({"n_clusters": 0}, "n_clusters"),
    ({"n_clusters": 11}, "n_clusters"),
    ({"n_clusters": None}, "n_clusters"),
    ({"n_clusters": 2, "max_iter": 0}, "max_iter"),
    ({"init": np.zeros((2, 3))}, "init"),
    ({"n_clusters": 3, "init": np.zeros((2, 2))}, "init holds 2"),
])
def test_lloyd_bad_input(kwargs, match):
    X = np.arange(20, dtype=float).reshape(10, 2)
    with pytest.raises(ValueError, match=match):
        toy.lloyd_kmeans(X, **kwargs)


def test_lloyd_rejects_images_with_a_hint():
    with pytest.raises(ValueError, match="flatten"):
        toy.lloyd_kmeans(np.zeros((5, 4, 4)), 2)
