"""Licences follow their terms (issue #14.13): the scheduler's ``licences-expire`` job ends
every licence whose end has come — expired at the end of its term, revoked at the end of
a wind-down — with the audit entry, and queues a notice to each of its parties."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app import scheduler
from app.mail.models import OutboxMessage
from app.marketplace import expiry
from app.marketplace.models import Licence
from app.people import audit

from .world import problem, world


def run_job(world) -> list[expiry.EndedLicence]:
    with world.app.app_context():
        return expiry.end_due_licences_job()


def outbox(world) -> list[tuple[str, str, str]]:
    with world.services() as uow:
        rows = uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(r.to_address, r.subject, r.idempotency_key) for r in rows]


def test_nothing_ends_before_its_time(world):
    assert run_job(world) == []
    assert outbox(world) == []


def test_a_licence_past_its_term_expires_with_its_audit_entry_and_a_notice_to_each_party(world):
    world.clock.advance(days=91)  # demo licences 1 (Ava ↔ Northwind) and 3 (Ben & Chloe ↔ Lumen) ran for 90 days
    ended = run_job(world)
    assert [(e.licence_id, e.status) for e in ended] == [(1, "expired"), (3, "expired")]
    with world.services() as uow:
        for licence_id in (1, 3):
            licence = uow.session.get(Licence, licence_id)
            assert licence.status == "expired" and licence.end_reason == "term ended"
            assert licence.ended_at == licence.ends_at
            (event,) = [e for e in audit.events_for(uow, "licence", licence_id) if e.action == "licence.expire"]
            assert (event.from_status, event.to_status, event.actor_id) == ("active", "expired", None)
    mail = outbox(world)
    assert sorted((to, key) for to, _, key in mail) == sorted(
        [
            ("ava@creators.example", "licence-ended:1:1"),
            ("dana@northwind.example", "licence-ended:1:4"),
            ("ben@creators.example", "licence-ended:3:2"),
            ("chloe@creators.example", "licence-ended:3:3"),
            ("eli@lumen.example", "licence-ended:3:5"),
        ]
    )
    assert {subject for _, subject, _ in mail} == {"Licence #1 has expired", "Licence #3 has expired"}
    # the API agrees: an expired licence takes no more uses, and the job has nothing left to do
    assert world.call("dana", "GET", "/licences/1").get_json()["status"] == "expired"
    world.clock.advance(minutes=1)
    assert run_job(world) == [] and len(outbox(world)) == 5


def test_a_licence_winding_down_after_a_revocation_is_revoked_when_its_notice_runs_out(world):
    response = world.call("ava", "POST", "/licences/1/revoke", json={"reason": "the campaign changed"})
    assert response.status_code == 200 and response.get_json()["status"] == "active"  # 7 days' notice
    world.clock.advance(days=6, hours=23)
    assert run_job(world) == []
    world.clock.advance(hours=1)
    assert [(e.licence_id, e.status) for e in run_job(world)] == [(1, "revoked")]
    with world.services() as uow:
        licence = uow.session.get(Licence, 1)
        assert licence.status == "revoked" and licence.end_reason == "the campaign changed"
        actions = [e.action for e in audit.events_for(uow, "licence", 1)]
        assert actions[-2:] == ["licence.wind_down", "licence.revoke"]
    subjects = {(to, subject) for to, subject, _ in outbox(world)}
    assert subjects == {
        ("ava@creators.example", "Licence #1 has been revoked"),
        ("dana@northwind.example", "Licence #1 has been revoked"),
    }
    problem(world.call("ava", "POST", "/licences/1/revoke", json={}), 409)


def test_the_scheduler_runs_the_expiry_every_minute(world):
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = scheduler.build_scheduler(world.app, scheduler_class=BackgroundScheduler)
    try:
        job = sched.get_job("licences-expire")
        assert job.func is scheduler.licences_expire_job
        assert job.trigger.interval == timedelta(seconds=scheduler.EXPIRY_INTERVAL_SECONDS) == timedelta(minutes=1)
        world.clock.advance(days=91)
        job.func()
    finally:
        scheduler._context.pop("app", None)
    with world.services() as uow:
        assert uow.session.get(Licence, 1).status == "expired"
