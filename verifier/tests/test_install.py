"""The verifier is a distribution of its own: install it into a fresh virtual
environment (nothing of the project, only ``cryptography``) and check an archive."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import scenario
from builder import flip, zipped

VERIFIER = Path(__file__).parents[1]


def _link_cryptography(venv: Path) -> None:
    """Offline fallback: expose this interpreter's cryptography (and cffi) to the new
    environment through a .pth file pointing at a folder of symlinks to only those."""
    site = next((venv / "lib").glob("python3*/site-packages"))
    shelf = venv / "borrowed"
    shelf.mkdir()
    source = Path(importlib.util.find_spec("cryptography").origin).parents[1]
    for item in source.iterdir():
        if item.name.split("-")[0].split(".")[0] in ("cryptography", "cffi", "_cffi_backend", "pycparser"):
            (shelf / item.name).symlink_to(item)
    (site / "borrowed.pth").write_text(f"{shelf}\n")


def _wheel(tmp_path: Path) -> Path:
    """Build the verifier's wheel with this interpreter (isolated build, or this
    environment's setuptools when the package index cannot be reached)."""
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"), str(VERIFIER)]
    try:
        subprocess.run(build, check=True, timeout=300, capture_output=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        subprocess.run([*build, "--no-build-isolation"], check=True, timeout=300)
    return next((tmp_path / "dist").glob("cameo_verify-*.whl"))


@pytest.mark.slow
def test_installed_alone_it_checks_an_archive(tmp_path, world, keys_file):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python, script = venv / "bin" / "python", venv / "bin" / "cameo-verify"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", str(_wheel(tmp_path))], check=True, timeout=300)
    try:
        subprocess.run([*pip, "cryptography>=42"], check=True, timeout=300, capture_output=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        _link_cryptography(venv)
    assert subprocess.run([str(python), "-c", "import flask"], capture_output=True).returncode != 0
    files = scenario.archive_files(world, "creator")
    (tmp_path / "good.zip").write_bytes(zipped(files))
    (tmp_path / "bad.zip").write_bytes(zipped({**files, "receipts/12.jsonl": flip(files["receipts/12.jsonl"])}))
    good = subprocess.run(
        [str(script), str(tmp_path / "good.zip"), "--keys", str(keys_file)], capture_output=True, text=True, timeout=120
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "OK: everything checks" in good.stdout
    bad = subprocess.run(
        [str(script), str(tmp_path / "bad.zip"), "--keys", str(keys_file)], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 1 and "receipts/12.jsonl: does not match the manifest" in bad.stdout
    usage = subprocess.run([str(script)], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2
