"""Tests of helpers.features: Coates & Ng's k-means patch features."""

import numpy as np
import pytest

from helpers import features


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32), d.target


def test_patches_shape_and_range(digits):
    x, _ = digits
    p = features.extract_random_patches(x, 100, 3, random_state=0)
    assert p.shape == (100, 9) and p.dtype == np.float32
    assert p.min() >= 0 and p.max() <= 1
    again = features.extract_random_patches(x, 100, 3, random_state=0)
    np.testing.assert_array_equal(p, again)


def test_normalize_and_whiten():
    rng = np.random.default_rng(0)
    p = rng.random((2000, 9)).astype(np.float32) * 0.5 + 0.25
    n = features.normalize_patches(p)
    np.testing.assert_allclose(n.mean(1), 0, atol=1e-5)
    mean, w = features.zca_whitening(n, eps=1e-6)
    white = (n - mean) @ w
    cov = np.cov(white, rowvar=False)
    # the normalised patches lose one dimension (their mean is zero), the others are white
    eig = np.sort(np.linalg.eigvalsh(cov))
    np.testing.assert_allclose(eig[1:], 1.0, atol=0.05)


def test_triangle_encoding_is_sparse_and_nonnegative():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 3.0]])
    f = features.triangle_encoding(z)
    np.testing.assert_allclose(f, [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])


def test_fit_transform_shapes_and_determinism(digits):
    x, _ = digits
    a = features.PatchKMeansFeatures(n_centroids=10, patch_size=3, n_patches=3000, random_state=0)
    fa = a.fit_transform(x[:200])
    b = features.PatchKMeansFeatures(n_centroids=10, patch_size=3, n_patches=3000, random_state=0)
    fb = b.fit(x[:200]).transform(x[:200])
    assert fa.shape == (200, 40) == (200, a.n_features_out)
    np.testing.assert_allclose(fa, fb, rtol=1e-5)
    assert (fa >= 0).all()
    assert a.centroids_.shape == (10, 9)


def test_features_beat_pixels_on_digits(digits):
    from sklearn.linear_model import LogisticRegression

    x, y = digits
    feat = features.PatchKMeansFeatures(n_centroids=30, patch_size=3, n_patches=5000, random_state=0)
    f = feat.fit_transform(x)
    train = np.arange(0, 1797, 9)[:100]  # 100 labeled digits
    test = np.setdiff1d(np.arange(1797), train)
    scale = f[train].std(0) + 1e-6
    acc_f = LogisticRegression(max_iter=3000).fit(f[train] / scale, y[train]).score(f[test] / scale, y[test])
    acc_p = LogisticRegression(max_iter=3000).fit(x[train].reshape(100, -1), y[train]).score(
        x[test].reshape(len(test), -1), y[test])
    assert acc_f > 0.8 and acc_f >= acc_p - 0.03


def test_uint8_input_is_scaled(digits):
    x, _ = digits
    u8 = (x[:50] * 255).astype(np.uint8)
    feat = features.PatchKMeansFeatures(n_centroids=5, patch_size=3, n_patches=1000, random_state=0)
    assert feat.fit_transform(u8).shape == (50, 20)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_centroids": 0}, "n_centroids"),
    ({"patch_size": 0}, "patch_size"),
    ({"n_patches": 5, "n_centroids": 10}, "n_patches"),
    ({"stride": 1.5}, "stride"),
])
def test_bad_parameters(digits, kwargs, match):
    x, _ = digits
    params = {"n_centroids": 5, "patch_size": 3, "n_patches": 500, **kwargs}
    with pytest.raises(ValueError, match=match):
        features.PatchKMeansFeatures(**params).fit(x[:20])


def test_bad_images_and_unfitted(digits):
    x, _ = digits
    with pytest.raises(ValueError, match="shape"):
        features.PatchKMeansFeatures(n_centroids=5, n_patches=500).fit(x.reshape(len(x), -1))
    with pytest.raises(ValueError, match="255"):
        features.PatchKMeansFeatures(n_centroids=5, n_patches=500).fit(x * 255)
    with pytest.raises(RuntimeError, match="fit"):
        features.PatchKMeansFeatures().transform(x)
    with pytest.raises(ValueError, match="patch_size"):
        features.extract_random_patches(x, 10, 9)
    feat = features.PatchKMeansFeatures(n_centroids=5, patch_size=3, n_patches=500).fit(x[:20])
    with pytest.raises(ValueError, match="fitted on"):
        feat.transform(np.zeros((3, 10, 10), np.float32))


def test_cached_features_reuse(tmp_path, monkeypatch, digits):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    x, _ = digits
    kw = dict(profile="test", dataset="digits", n_centroids=5, patch_size=3, n_patches=500,
              verbose=False)
    first = features.cached_patch_features(x[:40], x[40:50], **kw)
    again = features.cached_patch_features(x[:40], x[40:50], **kw)
    assert first["pool"].shape == (40, 20) and first["test"].shape == (10, 20)
    np.testing.assert_array_equal(first["pool"], again["pool"])
    assert len(list(tmp_path.rglob("*.npz"))) == 1
