"""Settlement: paying creators what a period left payable, through Stripe Connect transfers.

``planning``   what each creator is owed for a period, in one set-based SQL pass; reserves; decisions
``service``    ``Settler``: the run (one per period, under a lock) and each item's checkpointed payment
``reversals``  ``transfer.reversed`` / ``transfer.updated`` webhooks take reversed amounts back
``locks``      the process-bound lock (PostgreSQL advisory lock, SQLite ``flock``)
``models``     ``settlement_run`` and ``settlement_item`` (migration 0007_settlement)
``cli``        ``cameo settle --period YYYY-MM [--dry-run] [--retry-failed]``
``views``      the staff pages under ``/staff/settlements``
``wiring``     building a ``Settler`` from app config; the scheduler's monthly job
"""
