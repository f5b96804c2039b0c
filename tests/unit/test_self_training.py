"""Tests of helpers.self_training: augmentation, pseudo-label weights, propagation <-> student."""

import numpy as np
import pytest

from helpers import evaluation, models
from helpers import self_training as st
from helpers import semi_supervised as ssl


def bars(n_per_class=60, seed=0):
    """Three easy classes of 28 x 28 uint8 images: a horizontal bar, a vertical bar, a square."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for c in range(3):
        for _ in range(n_per_class):
            img = rng.integers(0, 40, (28, 28)).astype(np.uint8)
            r, q = rng.integers(6, 20, 2)
            if c == 0:
                img[r:r + 3, 4:24] = 255
            elif c == 1:
                img[4:24, q:q + 3] = 255
            else:
                img[r:r + 8, q:q + 8] = 255
            images.append(img)
            labels.append(c)
    order = rng.permutation(len(labels))
    return np.array(images)[order], np.array(labels)[order]


def noisy_teacher(y, n_classes, accuracy, seed=0):
    """Label distributions that are right for about ``accuracy`` of the rows."""
    rng = np.random.default_rng(seed)
    wrong = rng.random(len(y)) > accuracy
    pseudo = np.where(wrong, (y + rng.integers(1, n_classes, len(y))) % n_classes, y)
    dist = np.full((len(y), n_classes), 0.1, dtype=np.float32)
    dist[np.arange(len(y)), pseudo] = 0.8
    return dist / dist.sum(1, keepdims=True)


# ----------------------------------------------------------------------- augmentation


def test_augment_moves_pixels_without_losing_them():
    x = np.zeros((50, 9, 9, 1), dtype=np.float32)
    x[:, 4, 4] = 1.0
    out = st.augment_images(x, max_shift=2, flip=False, random_state=0)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(out.sum(axis=(1, 2, 3)), 1.0)  # a centred dot stays on the frame
    rows, cols = np.nonzero(out[..., 0])[1:]
    assert set(rows) <= {2, 3, 4, 5, 6} and set(cols) <= {2, 3, 4, 5, 6}
    assert len(set(zip(rows, cols))) > 5  # shifts vary between images
    np.testing.assert_array_equal(out, st.augment_images(x, max_shift=2, flip=False, random_state=0))
    np.testing.assert_array_equal(x[:, 4, 4], 1.0)  # the input is left alone


def test_augment_flip_and_identity():
    rng = np.random.default_rng(1)
    x = rng.random((40, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(st.augment_images(x, max_shift=0, flip=False), x)
    out = st.augment_images(x, max_shift=0, flip=True, random_state=3)
    mirrored = np.all(out == x[:, :, ::-1], axis=(1, 2))
    same = np.all(out == x, axis=(1, 2))
    assert np.all(mirrored | same) and 5 < mirrored.sum() < 35


@pytest.mark.parametrize("images, kwargs, message", [
    (np.zeros((5, 784)), {}, "to_tensors"),
    (np.zeros((0, 28, 28)), {}, "non-empty"),
    (np.zeros((2, 28, 28)), {"max_shift": -1}, "non-negative"),
    (np.zeros((2, 28, 28)), {"max_shift": 1.5}, "non-negative"),
    (np.zeros((2, 6, 6)), {"max_shift": 3}, "off the frame"),
])
def test_augment_bad_input(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        st.augment_images(images, **kwargs)


def test_entropy_weights():
    p = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.6, 0.3, 0.1], [0.0, 0.0, 0.0]])
    w = st.entropy_weights(p)
    np.testing.assert_allclose(w[:2], [1.0, 0.0], atol=1e-6)
    assert 0.0 < w[2] < 1.0 and w[3] == pytest.approx(0.0)  # an empty row carries no information
    assert w.dtype == np.float32
    with pytest.raises(ValueError, match="n_classes"):
        st.entropy_weights(np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        st.entropy_weights(np.array([[0.5, -0.5]]))


# ----------------------------------------------------------------------- one round


def test_training_set_repeats_the_true_labels():
    labels = np.array([0, 1, 1, 0, 2, 2, 1, 0, 2, 1])
    weights = np.linspace(0.1, 1.0, 10).astype(np.float32)
    labeled, truth = np.array([1, 4]), np.array([0, 2])  # image 1's pseudo-label (1) was wrong
    idx, y, w = st.training_set(labels, weights, labeled, truth, labeled_share=0.4)
    # 8 unlabeled images once each, the 2 labeled ones twice each (0.4 * 10 / 2 = 2 repeats)
    np.testing.assert_array_equal(idx, [0, 2, 3, 5, 6, 7, 8, 9, 1, 4, 1, 4])
    np.testing.assert_array_equal(y, [0, 1, 0, 2, 1, 0, 2, 1, 0, 2, 0, 2])
    np.testing.assert_allclose(w[:8], weights[[0, 2, 3, 5, 6, 7, 8, 9]])
    np.testing.assert_array_equal(w[8:], 1.0)


def test_feature_graph_links_images_that_the_network_maps_alike(problem):
    x, y, _ = problem
    net = small_cnn()
    s = st.feature_graph(net, x, n_neighbors=4)
    assert s.shape == (len(x), len(x)) and abs(s - s.T).max() < 1e-6
    # written out: unit-length features of the "features" layer, 4 nearest neighbours each
    f = models.feature_extractor(net).predict(x, verbose=0)
    f /= np.linalg.norm(f, axis=1, keepdims=True) + 1e-8
    neighbors, _ = ssl.nearest_neighbors(f, 4)
    assert (s != ssl.spreading_matrix(neighbors)).nnz == 0


def test_train_round_is_seeded_and_learns(problem):
    import keras

    x, y, labeled = problem
    teacher = noisy_teacher(y, 3, accuracy=0.9)
    weights = st.entropy_weights(teacher)
    nets = []
    for _ in range(2):
        net = small_cnn(filters=(8, 16), dense_units=16)
        net.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        st.train_round(net, x, teacher.argmax(1), weights, labeled, y[labeled], epochs=4,
                       batch_size=32, random_state=0)
        nets.append(net)
    first, second = (n.predict(x, verbose=0) for n in nets)
    np.testing.assert_allclose(first, second, atol=1e-5)  # the same seed trains the same network
    assert np.mean(first.argmax(1) == y) > 0.6  # chance is 1/3; 4 short epochs give about 0.7


# ----------------------------------------------------------------------- the rounds


@pytest.fixture(scope="module")
def problem():
    x, y = bars()
    labeled = np.array([np.flatnonzero(y == c)[:2] for c in range(3)]).ravel()
    return x[..., None].astype(np.float32) / 255.0, y, labeled


def small_cnn(seed=0, filters=(4, 8), dense_units=8):
    import keras

    keras.utils.set_random_seed(seed)
    return models.build_cnn((28, 28, 1), 3, filters=filters, dense_units=dense_units, dropout=0.0)


def test_student_beats_a_noisy_teacher():
    x, y = bars(n_per_class=300)
    x = x[..., None].astype(np.float32) / 255.0
    labeled = np.array([np.flatnonzero(y == c)[:2] for c in range(3)]).ravel()
    teacher = noisy_teacher(y, 3, accuracy=0.75)
    net = small_cnn(filters=(8, 16), dense_units=16)
    rounds = st.propagate_and_train(net, x, labeled, y[labeled], teacher, rounds=2,
                                    epochs_per_round=5, n_neighbors=5, alpha=0.9, batch_size=32,
                                    random_state=0)
    assert rounds.labels.shape == (2, len(y)) and rounds.weights.shape == (2, len(y))
    assert np.isnan(rounds.alphas[0]) and rounds.alphas[1] == 0.9
    np.testing.assert_array_equal(rounds.labels[:, labeled], np.tile(y[labeled], (2, 1)))
    np.testing.assert_array_equal(rounds.weights[:, labeled], 1.0)
    teacher_acc = np.mean(rounds.labels[0] == y)
    assert teacher_acc < 0.8
    # the noise is random, so a network that cannot memorise every image (augmentation, one
    # smooth function) agrees with the majority of its neighbours' labels: it beats its teacher
    student_acc = np.mean(net.predict(x, verbose=0).argmax(1) == y)
    assert student_acc > teacher_acc + 0.05


def test_rounds_are_cached(problem, tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    x, y, labeled = problem
    teacher = noisy_teacher(y, 3, accuracy=0.9)
    kw = dict(rounds=2, epochs_per_round=1, n_neighbors=5, batch_size=64, random_state=0,
              cache_params={"test": 1})
    first_net = small_cnn()
    first = st.propagate_and_train(first_net, x, labeled, y[labeled], teacher, **kw)

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run must not train again")

    monkeypatch.setattr(st, "train_round", no_training)
    second_net = small_cnn()
    second = st.propagate_and_train(second_net, x, labeled, y[labeled], teacher, **kw)
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_allclose(first_net.predict(x, verbose=0), second_net.predict(x, verbose=0))
    with pytest.raises(AssertionError, match="must not train"):  # another setting is another key
        st.propagate_and_train(small_cnn(), x, labeled, y[labeled], teacher,
                               **{**kw, "max_shift": 1})


def test_propagate_bad_input(problem):
    x, y, labeled = problem
    teacher = noisy_teacher(y, 3, accuracy=0.9)
    net = small_cnn()
    call = st.propagate_and_train
    with pytest.raises(ValueError, match="to_tensors"):
        call(net, x[..., 0], labeled, y[labeled], teacher)
    with pytest.raises(ValueError, match="one row per pool image"):
        call(net, x, labeled, y[labeled], teacher[:-1])
    with pytest.raises(ValueError, match="one row per pool image"):
        call(net, x, labeled, y[labeled], teacher[:, :2])
    with pytest.raises(ValueError, match="same length"):
        call(net, x, labeled, y[labeled][:-1], teacher)
    with pytest.raises(ValueError, match="no label"):
        call(net, x, labeled[y[labeled] != 2], y[labeled][y[labeled] != 2], teacher)
    with pytest.raises(ValueError, match="rounds"):
        call(net, x, labeled, y[labeled], teacher, rounds=0)
    with pytest.raises(ValueError, match="epochs_per_round"):
        call(net, x, labeled, y[labeled], teacher, epochs_per_round=True)
    with pytest.raises(ValueError, match="'auto'"):
        call(net, x, labeled, y[labeled], teacher, alpha="best")
    with pytest.raises(ValueError, match="alpha"):
        call(net, x, labeled, y[labeled], teacher, alpha=1.5)
    with pytest.raises(ValueError, match="n_neighbors"):
        call(net, x, labeled, y[labeled], teacher, n_neighbors=len(x))
    with pytest.raises(ValueError, match="off the frame"):
        call(net, x, labeled, y[labeled], teacher, max_shift=14)
    with pytest.raises(ValueError, match="labeled_share"):
        call(net, x, labeled, y[labeled], teacher, labeled_share=1.0)


def test_propagation_student_method():
    x, y = bars(n_per_class=200, seed=1)
    xp, yp, xt, yt = x[:500], y[:500], x[500:], y[500:]
    z = ssl.prepare_graph_space(xp.reshape(len(xp), -1).astype(float), 10)[0]
    pool_nb, _ = ssl.nearest_neighbors(z, 5)
    method = evaluation.propagation_student(pool_nb, rounds=2, epochs_per_round=5, filters=(8, 16),
                                            dense_units=16, batch_size=32)
    scratch = evaluation.cnn_from_scratch(epochs=10, patience=3, filters=(8, 16), dense_units=16)
    result = evaluation.run_experiment({"prop": method, "scratch": scratch}, xp, yp, xt, yt,
                                       budgets=(3,), n_draws=1, cache_params=None, verbose=False)
    acc = dict(zip(result.table.column("method"), result.table.column("accuracy")))
    assert acc["prop"] > 0.75 and acc["prop"] > acc["scratch"] + 0.1  # the pool pays off
    assert method.params["rounds"] == 2 and method.params["k"] == 5
    with pytest.raises(ValueError, match="rows do not match"):
        evaluation.run_experiment({"p": evaluation.propagation_student(pool_nb)}, xp[:-1], yp[:-1], xt,
                                  yt, budgets=(1,), n_draws=1, cache_params=None, verbose=False)


def test_teacher_student_method():
    x, y = bars(n_per_class=200, seed=2)
    xp, yp, xt, yt = x[:500], y[:500], x[500:], y[500:]
    z = ssl.prepare_graph_space(xp.reshape(len(xp), -1).astype(float), 10)[0]
    pool_nb, _ = ssl.nearest_neighbors(z, 5)
    method = evaluation.teacher_student(pool_nb, epochs=5, keep=0.8, filters=(8, 16),
                                        dense_units=16, batch_size=32)
    scratch = evaluation.cnn_from_scratch(epochs=10, patience=3, filters=(8, 16), dense_units=16)
    result = evaluation.run_experiment({"student": method, "scratch": scratch}, xp, yp, xt, yt,
                                       budgets=(3,), n_draws=1, cache_params=None, verbose=False)
    acc = dict(zip(result.table.column("method"), result.table.column("accuracy")))
    # measured: 0.70 against 0.49 (its teacher labels the pool 73 % right on this pixel graph)
    assert acc["student"] > 0.6 and acc["student"] > acc["scratch"] + 0.1  # the pool pays off
    assert method.params["keep"] == 0.8 and method.params["k"] == 5
    with pytest.raises(ValueError, match="rows do not match"):
        evaluation.run_experiment({"s": evaluation.teacher_student(pool_nb, epochs=1)}, xp[:-1],
                                  yp[:-1], xt, yt, budgets=(1,), n_draws=1, cache_params=None,
                                  verbose=False)
