"""Shared fixtures: small synthetic datasets written as genuine IDX/gzip files."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from helpers import data

ROOT = Path(__file__).resolve().parent.parent


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def fake_idx_dir(tmp_path, monkeypatch):
    """A folder with the four Fashion-MNIST file names holding small fake data.

    The loader's shapes and checksums are patched to match the fake files, so the
    real parsing and verification code runs on them.
    """
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8),
        "y_train": np.repeat(np.arange(10, dtype=np.uint8), 5),
        "x_test": rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8),
        "y_test": np.repeat(np.arange(10, dtype=np.uint8), 2),
    }
    sums = {}
    for key, filename in data.IDX_FILES.items():
        path = tmp_path / filename
        path.write_bytes(gzip.compress(idx_bytes(arrays[key]), mtime=0))
        sums[filename] = {hashlib.sha256(path.read_bytes()).hexdigest()}
    monkeypatch.setitem(data.SHA256_GZ, "fashion_mnist", sums)
    monkeypatch.setitem(data.SHA256_RAW, "fashion_mnist", {})
    monkeypatch.setattr(data, "IDX_SHAPES", {k: v.shape for k, v in arrays.items()})
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-home"))
    monkeypatch.setattr(data, "DEBIAN_DIRS", {})
    return tmp_path, arrays
