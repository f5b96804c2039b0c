import numpy as np
import pytest

from helpers import validation as v


def test_check_int():
    assert v.check_int(np.int64(3), "k") == 3
    with pytest.raises(TypeError, match="k must be an integer"):
        v.check_int(True, "k")
    with pytest.raises(TypeError, match="integer"):
        v.check_int(2.0, "k")
    with pytest.raises(ValueError, match="k == 0"):
        v.check_int(0, "k")
    with pytest.raises(ValueError, match="k == 9"):
        v.check_int(9, "k", maximum=8)


def test_check_float_and_fraction():
    assert v.check_float(2, "tau", minimum=0, include_minimum=False) == 2.0
    with pytest.raises(ValueError, match="tau == 0"):
        v.check_float(0, "tau", minimum=0, include_minimum=False)
    with pytest.raises(ValueError, match="finite"):
        v.check_float(float("nan"), "tau")
    assert v.check_fraction(0.0, "share") == 0.0
    with pytest.raises(ValueError, match="share == 1"):
        v.check_fraction(1.0, "share")
    assert v.check_fraction(1.0, "share", include_one=True) == 1.0


def test_check_images():
    grey, colour = np.zeros((2, 5, 5), np.uint8), np.zeros((2, 5, 5, 3), np.float32)
    assert v.check_images(grey).dtype == np.uint8
    assert v.check_images(colour).shape == (2, 5, 5, 3)
    with pytest.raises(ValueError, match="Reshape"):
        v.check_images(np.zeros((2, 25)))
    with pytest.raises(ValueError, match="channels"):
        v.check_images(np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match="at least 2"):
        v.check_images(grey[:1], min_samples=2)
    with pytest.raises(TypeError, match="numbers"):
        v.check_images(np.array([[["a"]]]))


def test_check_features():
    assert v.check_features(np.ones((3, 2))).shape == (3, 2)
    with pytest.raises(ValueError, match="to_vectors"):
        v.check_features(np.ones((3, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        v.check_features(np.array([[np.nan, 1.0]]))


def test_check_labels():
    assert v.check_labels([0, 2, 1], n=3, n_classes=3).dtype == np.int64
    assert v.check_labels(np.array([1.0, 0.0])).tolist() == [1, 0]
    with pytest.raises(ValueError, match="one label per image"):
        v.check_labels([0, 1], n=3)
    with pytest.raises(ValueError, match="only 2 classes"):
        v.check_labels([0, 2], n_classes=2)
    with pytest.raises(ValueError, match="non-negative"):
        v.check_labels([-1, 0])
    with pytest.raises(ValueError, match="argmax"):
        v.check_labels(np.eye(3))
    with pytest.raises(TypeError, match="integer"):
        v.check_labels([0.5, 1.0])


def test_check_same_length():
    assert v.check_same_length(x=[1, 2], y=[3, 4]) == 2
    with pytest.raises(ValueError, match="x=2, y=3"):
        v.check_same_length(x=[1, 2], y=[3, 4, 5])
