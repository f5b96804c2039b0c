"""The supported Pythons (3.11-3.13) are the same everywhere, and the set-up says what to do without one.

scripts/setup.sh is run for real, from a copy in a temporary folder (so no .venv exists), with a PATH
that holds only fake interpreters (tiny shell scripts that report a version) and the few tools the
script needs. Nothing is installed.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = ["3.11", "3.12", "3.13"]


def setup_pythons():
    match = re.search(r'^BOOK_PYTHONS="([^"]+)"', (ROOT / "scripts" / "setup.sh").read_text(), re.M)
    return sorted(match.group(1).split(), key=lambda v: tuple(map(int, v.split("."))))


# --- one supported range everywhere -------------------------------------------------------------

def test_setup_and_check_pins_name_the_supported_pythons():
    assert setup_pythons() == SUPPORTED
    match = re.search(r'^SUPPORTED_PYTHONS="([^"]+)"', (ROOT / "scripts" / "check_pins.sh").read_text(), re.M)
    assert match.group(1).split() == SUPPORTED


def test_pyproject_agrees():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^requires-python = ">=3\.11"$', text, re.M)
    classifiers = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text)
    assert classifiers == SUPPORTED


def test_readme_and_how_to_use_name_the_supported_pythons():
    for page in ("README.md", "book/how-to-use.md"):
        text = (ROOT / page).read_text()
        assert "Python 3.11, 3.12 or 3.13" in text.replace("**", ""), page
        assert "3.10" not in text, f"{page} still mentions Python 3.10"


def test_ci_matrix_runs_make_test_on_every_supported_python_on_linux_and_macos():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "tests.yml").read_text())
    test = workflow["jobs"]["test"]
    assert test["strategy"]["matrix"]["python"] == SUPPORTED
    assert set(test["strategy"]["matrix"]["os"]) == {"ubuntu-latest", "macos-latest"}
    steps = [step.get("run", "") for step in test["steps"]]
    assert "make test" in steps
    pins = [step.get("run", "") for step in workflow["jobs"]["pins"]["steps"]]
    assert "make check-pins" in pins
    # The publishing workflow runs these tests first.
    pages = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    assert pages["jobs"]["test"]["uses"] == "./.github/workflows/tests.yml"
    assert pages["jobs"]["build"]["needs"] == "test"


def test_makefile_has_check_pins():
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"^check-pins:.*\n\tbash scripts/check_pins.sh$", text, re.M)


# --- the pins ----------------------------------------------------------------------------------

def pins(path):
    """{(name, marker): version} from a requirements file; fails on anything but name==version."""
    found = {}
    for raw in (ROOT / path).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        spec, _, marker = (part.strip() for part in line.partition(";"))
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([A-Za-z0-9_.+\-]+)", spec)
        assert match, f"{path}: not a single == pin: {raw!r}"
        found[(match.group(1).lower(), marker)] = match.group(2)
    return found


def test_requirements_have_one_pin_per_package_and_no_python_markers():
    found = pins("requirements.txt")
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), "a package is pinned twice"
    for (name, marker), _ in found.items():
        assert "python_version" not in marker, f"{name}: one pin for every supported Python"
        assert marker in ("", 'sys_platform != "darwin"', 'sys_platform == "darwin"'), (name, marker)
    assert found[("tensorflow-cpu", 'sys_platform != "darwin"')] == found[("tensorflow", 'sys_platform == "darwin"')]


def test_binder_pins_are_the_books_pins():
    book = {name: version for (name, _), version in pins("requirements.txt").items()}
    binder = {name: version for (name, _), version in pins("binder/requirements.txt").items()}
    assert {"tensorflow-cpu", "keras", "numpy", "scikit-learn"} <= set(binder)
    for name, version in binder.items():
        assert book.get(name) == version, f"binder/requirements.txt pins {name}=={version}, requirements.txt {book.get(name)}"
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime) and runtime.removeprefix("python-") in SUPPORTED


def test_binder_postbuild_installs_helpers_and_the_data_dry_run():
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    out = subprocess.run(["bash", str(post)], env={**os.environ, "BINDER_DRY_RUN": "1"},
                         capture_output=True, text=True, check=True).stdout
    steps = [line for line in out.splitlines() if line.startswith("+ ")]
    assert len(steps) == 3, out
    assert "pip install" in steps[0] and steps[0].endswith("-e .")
    assert "load_dataset('fashion_mnist', allow_download=True" in steps[1]
    assert steps[2].endswith("-m helpers.data check")


def test_check_pins_plan_covers_every_supported_python_and_platform():
    out = subprocess.run(["bash", str(ROOT / "scripts" / "check_pins.sh"), "--plan"], capture_output=True,
                         text=True, check=True, env={**os.environ, "PY": sys.executable}).stdout
    rows = [line.split(" | ") for line in out.strip().splitlines()]
    book = {(r[1], r[2]): r[3].split(", ") for r in rows if r[0] == "requirements.txt"}
    assert set(book) == {(f"Python {v}", p) for v in SUPPORTED for p in ("linux-x86_64", "macos-arm64")}
    for (_, platform), reqs in book.items():
        tf = "tensorflow==2.21.0" if platform == "macos-arm64" else "tensorflow-cpu==2.21.0"
        other = "tensorflow-cpu" if platform == "macos-arm64" else "tensorflow=="
        assert tf in reqs and not any(r.startswith(other) for r in reqs), (platform, reqs)
    assert [r[:3] for r in rows if r[0] == "binder/requirements.txt"] == [
        ["binder/requirements.txt", "Python 3.12", "linux-x86_64"]]


def test_check_pins_rejects_unknown_arguments():
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "check_pins.sh"), "--nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown argument" in proc.stderr


# --- scripts/setup.sh with fake interpreters ----------------------------------------------------

@pytest.fixture
def fake(tmp_path):
    """A copy of scripts/setup.sh and a bin/ folder; returns a function that runs it."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "pyproject.toml").write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "uname"):
        os.symlink(shutil.which(tool), bin_dir / tool)

    def python(name, version, where=bin_dir):
        """A fake interpreter: prints its version for `--version`, else `major.minor`."""
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'#!/bin/sh\ncase "$1" in --version) echo "Python {version}.0" ;; *) echo "{version}" ;; esac\n')
        path.chmod(0o755)
        return path

    def run(**env):
        # Sourced from a strict shell, as scripts/test.sh and scripts/book.sh do.
        return subprocess.run(["bash", "-c", f"set -euo pipefail; source {tmp_path}/scripts/setup.sh"],
                              capture_output=True, text=True, env={"PATH": str(bin_dir), "HOME": str(tmp_path), **env},
                              executable=shutil.which("bash"))

    run.python, run.bin, run.root = python, bin_dir, tmp_path
    return run


def test_no_supported_python_gets_a_message_with_versions_reason_and_two_ways(fake):
    fake.python("python3.14", "3.14")
    fake.python("python3.10", "3.10")
    os.symlink(fake.bin / "python3.14", fake.bin / "python3")
    proc = fake()
    assert proc.returncode == 1
    msg = proc.stderr
    assert "needs Python 3.11, 3.12 or 3.13, and none was found" in msg
    assert "python3 (3.14)" in msg and "python3.10 (3.10)" in msg and "python3.14 (3.14)" in msg
    assert "TensorFlow 2.21" in msg and "wheels" in msg
    assert "uv python install 3.13" in msg and "pyenv install 3.13" in msg
    assert "next to the one you have" in msg
    assert not (fake.root / ".venv").exists()


def test_message_names_apt_on_debian_like_systems(fake):
    stub = fake.bin / "apt-get"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    proc = fake()
    assert proc.returncode == 1
    assert "Found on PATH: none." in proc.stderr
    assert "sudo apt-get install python3.13 python3.13-venv" in proc.stderr


def test_newest_supported_python_is_picked(fake):
    fake.python("python3.11", "3.11")
    fake.python("python3.13", "3.13")
    fake.python("python3", "3.14")
    proc = fake(BOOK_SETUP_DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    assert "would create .venv with python3.13 (Python 3.13)" in proc.stdout


def test_python3_is_used_when_it_is_supported(fake):
    fake.python("python3", "3.12")
    proc = fake(BOOK_SETUP_DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    assert "would create .venv with python3 (Python 3.12)" in proc.stdout


def test_book_python_picks_the_interpreter_or_says_why_not(fake, tmp_path):
    chosen = fake.python("py312", "3.12", where=tmp_path / "elsewhere")
    fake.python("python3.13", "3.13")
    proc = fake(BOOK_SETUP_DRY_RUN="1", BOOK_PYTHON=str(chosen))
    assert proc.returncode == 0, proc.stderr
    assert f"would create .venv with {chosen} (Python 3.12)" in proc.stdout
    too_new = fake.python("py314", "3.14", where=tmp_path / "elsewhere")
    proc = fake(BOOK_SETUP_DRY_RUN="1", BOOK_PYTHON=str(too_new))
    assert proc.returncode == 1
    assert f"BOOK_PYTHON={too_new} runs Python 3.14." in proc.stderr


def test_an_environment_with_an_unsupported_python_is_refused(fake, tmp_path):
    fake.python("python", "3.10", where=tmp_path / "oldenv" / "bin")
    proc = fake(VIRTUAL_ENV=str(tmp_path / "oldenv"))
    assert proc.returncode == 1
    assert "runs Python 3.10; the book needs Python 3.11, 3.12 or 3.13" in proc.stderr
    assert "deactivate" in proc.stderr
    fake.python("python", "3.10", where=fake.root / ".venv" / "bin")
    proc = fake()
    assert proc.returncode == 1
    assert "rm -rf .venv" in proc.stderr


def test_an_environment_with_a_supported_python_is_used(fake, tmp_path):
    fake.python("python", "3.13", where=tmp_path / "env" / "bin")
    proc = fake(VIRTUAL_ENV=str(tmp_path / "env"), BOOK_SETUP_DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    assert f"would use {tmp_path}/env/bin/python (Python 3.13)" in proc.stdout


def test_a_supported_python_installed_with_pyenv_but_not_selected_is_named(fake):
    stub = fake.bin / "pyenv"
    stub.write_text('#!/bin/sh\ncase "$1" in versions) printf "3.10.13\\n3.12.1\\n3.14.0\\n" ;; root) echo /opt/pyenv ;; esac\n')
    stub.chmod(0o755)
    proc = fake()
    assert proc.returncode == 1
    assert "pyenv has Python 3.12.1: run `pyenv local 3.12.1`" in proc.stderr
    assert "BOOK_PYTHON=/opt/pyenv/versions/3.12.1/bin/python" in proc.stderr
    assert "pyenv has Python 3.10.13" not in proc.stderr and "pyenv has Python 3.14.0" not in proc.stderr
