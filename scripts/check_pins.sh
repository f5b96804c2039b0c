#!/usr/bin/env bash
# Check, without installing anything, that the pinned requirements resolve to wheels for every
# supported Python on Linux (x86_64) and macOS (Apple silicon): one `pip install --dry-run` per
# Python and platform, with --python-version/--platform/--only-binary=:all:, run in parallel.
#
#   scripts/check_pins.sh                 # every supported Python (3.11 3.12 3.13), both platforms
#   scripts/check_pins.sh 3.12            # only the Pythons named
#   scripts/check_pins.sh --plan          # print what would be resolved; needs no network
#   REQUIREMENTS="a.txt b.txt" scripts/check_pins.sh   # other requirement files
#
# It needs the package index (PyPI or your PIP_INDEX_URL), but downloads only metadata. pip evaluates
# the markers of the *dependencies* for the Python that runs it, so this is a check of the pins and
# of the wheels they need; CI's `make test` on each supported Python is the full check.
# Exit status: 0 all resolve, 1 some pin does not resolve, 2 the package index could not be reached.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2

# The supported Pythons: keep in step with pyproject.toml, scripts/setup.sh, README.md and the CI
# matrix (tests/unit/test_setup.py checks that they agree).
SUPPORTED_PYTHONS="3.11 3.12 3.13"

PLAN=0
VERSIONS=()
for arg in "$@"; do
  case "$arg" in
    --plan) PLAN=1 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    3.*) VERSIONS+=("$arg") ;;
    *) echo "check_pins: unknown argument '$arg' (expected --plan or a version such as 3.12)" >&2; exit 2 ;;
  esac
done
[ ${#VERSIONS[@]} -gt 0 ] || read -r -a VERSIONS <<< "$SUPPORTED_PYTHONS"
# binder/requirements.txt is what the Binder button installs (on binder/runtime.txt's Python).
REQUIREMENTS="${REQUIREMENTS:-requirements.txt binder/requirements.txt}"

# Any Python 3.8+ with pip >= 22.2 (for --dry-run and --report) runs the check: $PY, the book's .venv,
# or python / python3 on PATH.
has_pip() {
  "$1" -c 'import sys; from pip import __version__ as v; sys.exit(sys.version_info < (3, 8) or tuple(map(int, v.split(".")[:2])) < (22, 2))' 2>/dev/null
}
RUNNER=""
for cand in ${PY:-} "$ROOT/.venv/bin/python" python python3; do
  if command -v "$cand" >/dev/null 2>&1 && has_pip "$cand"; then RUNNER="$cand"; break; fi
done
if [ -z "$RUNNER" ]; then
  echo "check_pins: needs a Python 3.8+ with pip 22.2 or newer (python -m pip install -U pip), or run" \
       "\`make test\` once so that .venv exists." >&2
  exit 2
fi

PLAN="$PLAN" VERSIONS="${VERSIONS[*]}" REQUIREMENTS="$REQUIREMENTS" exec "$RUNNER" - <<'PYCODE'
import concurrent.futures as futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.requirements import Requirement

PLATFORMS = {
    # name: (marker environment, pip --platform tags)
    "linux-x86_64": (
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
        [f"manylinux_2_{minor}_x86_64" for minor in range(35, 16, -1)] + ["manylinux2014_x86_64"],
    ),
    "macos-arm64": (
        {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
        ["macosx_14_0_arm64"],
    ),
}
NETWORK_ERRORS = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
    r"Network is unreachable|ProxyError|ConnectTimeout|Max retries exceeded|Could not fetch URL"
)
NOISE = re.compile(r"is ignored: it is neither a file nor a directory")


def binder_python():
    runtime = Path("binder/runtime.txt")
    if runtime.exists():
        match = re.search(r"python-(3\.\d+)", runtime.read_text())
        if match:
            return match.group(1)
    return None


def marker_env(version, platform):
    env = {
        "python_version": version,
        "python_full_version": version + ".0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
    }
    env.update(PLATFORMS[platform][0])
    return env


def select(path, version, platform):
    """The requirement lines of `path` whose markers hold for this Python and platform."""
    kept = []
    for raw in Path(path).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            sys.exit(f"check_pins: {path}: options such as '{line}' are not supported here")
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(marker_env(version, platform)):
            req.marker = None
            kept.append(str(req))
    return kept


def jobs():
    versions = os.environ["VERSIONS"].split()
    for path in os.environ["REQUIREMENTS"].split():
        if not Path(path).exists():
            sys.exit(f"check_pins: {path} not found")
        wanted = versions
        if path.startswith("binder/"):  # Binder runs one Python, on Linux
            wanted = [binder_python() or versions[-1]]
            yield path, wanted[0], "linux-x86_64"
            continue
        for version in wanted:
            for platform in PLATFORMS:
                yield path, version, platform


def run(job, workdir):
    path, version, platform = job
    reqs = select(path, version, platform)
    tag = f"{path} {version} {platform}".replace("/", "_").replace(" ", "-")
    req_file = Path(workdir) / f"{tag}.txt"
    req_file.write_text("\n".join(reqs) + "\n")
    report = Path(workdir) / f"{tag}.json"
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
           "--disable-pip-version-check", "--retries", "1", "--timeout", "30",
           "--only-binary=:all:", "--implementation", "cp", "--python-version", version,
           "--target", str(Path(workdir) / "target"), "--report", str(report), "-r", str(req_file)]
    for tag_ in PLATFORMS[platform][1]:
        cmd += ["--platform", tag_]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.monotonic() - start
    output = "\n".join(l for l in (proc.stdout + proc.stderr).splitlines() if not NOISE.search(l))
    count = len(json.loads(report.read_text())["install"]) if proc.returncode == 0 else 0
    return job, reqs, proc.returncode, output, seconds, count


def main():
    todo = list(jobs())
    if os.environ.get("PLAN") == "1":
        for path, version, platform in todo:
            print(f"{path} | Python {version} | {platform} | " + ", ".join(select(path, version, platform)))
        return 0
    start = time.monotonic()
    failed = offline = 0
    with tempfile.TemporaryDirectory(prefix="check-pins-") as workdir:
        with futures.ThreadPoolExecutor(max_workers=4) as pool:
            for job, reqs, code, output, seconds, count in pool.map(lambda j: run(j, workdir), todo):
                path, version, platform = job
                where = f"{path} on Python {version}, {platform}"
                if code == 0:
                    print(f"[check-pins] ok    {where}: {len(reqs)} pins, {count} packages ({seconds:.0f} s)")
                    continue
                if NETWORK_ERRORS.search(output):
                    offline += 1
                    print(f"[check-pins] ----  {where}: the package index could not be reached")
                else:
                    failed += 1
                    print(f"[check-pins] FAIL  {where}:")
                    print("\n".join("    " + l for l in output.strip().splitlines()[-12:]))
    total = time.monotonic() - start
    if failed:
        print(f"[check-pins] {failed} of {len(todo)} combinations do not resolve ({total:.0f} s). "
              "Change the pins in requirements.txt (one version for every supported Python) or the "
              "supported range, then run `make check-pins` again.")
        return 1
    if offline:
        print(f"[check-pins] could not check {offline} of {len(todo)} combinations: this check needs the "
              "package index (PyPI, or the index in PIP_INDEX_URL / pip.conf). Run it with network access.")
        return 2
    print(f"[check-pins] every pin resolves for Python {', '.join(os.environ['VERSIONS'].split())} "
          f"({len(todo)} combinations, {total:.0f} s)")
    return 0


sys.exit(main())
PYCODE
