from __future__ import annotations

from tests.marketplace.world import seeded_template, world
