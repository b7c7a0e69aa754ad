"""``python -m app`` is the ``cameo`` command (the development stack starts it this way)."""

from app import main

main()
