"""The book's Sphinx extension and its configuration."""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import book_offline  # noqa: E402


def test_fingerprint_tracks_helpers_and_profile(tmp_path, monkeypatch):
    (tmp_path / "helpers").mkdir()
    module = tmp_path / "helpers" / "a.py"
    module.write_text("x = 1\n")
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    first = book_offline.inputs_fingerprint(tmp_path)
    assert book_offline.inputs_fingerprint(tmp_path) == first
    module.write_text("x = 2\n")
    second = book_offline.inputs_fingerprint(tmp_path)
    assert second != first
    monkeypatch.setenv("BOOK_PROFILE", "quick")
    assert book_offline.inputs_fingerprint(tmp_path) != second


def test_mathjax_is_installed_locally():
    es5 = book_offline.mathjax_source()
    assert (es5 / book_offline.MATHJAX_ENTRY).stat().st_size > 100_000
    assert (es5 / "output" / "chtml" / "fonts").is_dir()


def test_config_uses_local_extension_and_no_cdn():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["sphinx"]["local_extensions"] == {"book_offline": "book/_ext"}
    text = (ROOT / "_config.yml").read_text()
    assert "cdn" not in text.lower()


def test_requirements_are_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line.split(";")[0], f"not pinned with ==: {line}"
