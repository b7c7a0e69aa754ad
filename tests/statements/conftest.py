from __future__ import annotations

import pytest

from tests.integration.book import Book


@pytest.fixture
def book(database_url):
    b = Book(database_url)
    yield b
    b.engine.dispose()
