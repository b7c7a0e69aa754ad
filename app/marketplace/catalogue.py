"""Reference data from seed_data/: content categories a cameo can block, and the
standard contract templates.  Read on first use, never at import."""

from __future__ import annotations

import functools
import json
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"


@functools.cache
def categories() -> dict[str, str]:
    """slug → description, e.g. ``"political": "Political or electoral messaging"``."""
    return json.loads((SEED_DIR / "categories.json").read_text())["categories"]


def unknown_categories(values: list[str]) -> list[str]:
    known = categories()
    return [v for v in values if v not in known]


def template_sources() -> list[dict]:
    """Every template in seed_data/templates/: metadata JSON + the licence text beside it."""
    folder = SEED_DIR / "templates"
    found = []
    for meta_path in sorted(folder.glob("*.json")):
        meta = json.loads(meta_path.read_text())
        meta["body"] = (folder / meta["body_file"]).read_text()
        found.append(meta)
    return found
