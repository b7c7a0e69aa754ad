"""Fixtures: the scenario's archives as files, and the CLI run in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import scenario
from builder import json_file, manifest_files, zipped

from cameo_verify.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="session")
def world() -> scenario.Scenario:
    return scenario.build()


@pytest.fixture
def creator_files(world) -> dict[str, bytes]:
    return scenario.archive_files(world, "creator")


@pytest.fixture
def brand_files(world) -> dict[str, bytes]:
    return scenario.archive_files(world, "brand")


@pytest.fixture
def keys_file(world, tmp_path) -> Path:
    path = tmp_path / "keys.json"
    path.write_bytes(json_file(world.platform.key_set()))
    return path


@pytest.fixture
def write_zip(tmp_path):
    def write(files: dict[str, bytes], name: str = "archive.zip") -> Path:
        path = tmp_path / name
        path.write_bytes(zipped(files))
        return path

    return write


@pytest.fixture
def resign(world):
    """Re-sign the manifest over changed files: what a platform (or a thief of its
    archive key) could do — so the deeper checks, not the manifest, must catch it."""

    def again(files: dict[str, bytes], subject: str = "creator:7") -> dict[str, bytes]:
        return manifest_files(files, world.platform, kid="ak-1", subject=subject, issued_at="2026-11-06T00:00:00Z")

    return again


@pytest.fixture
def cli(capsys):
    def run(*args) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
