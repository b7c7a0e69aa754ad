"""Tokens (shown once, stored hashed, revocable), web login with CSRF, rate limits."""

from __future__ import annotations

import hashlib
import re

from app.db import Database
from app.kit.registry import provided
from tests.conftest import make_test_app
from tests.marketplace.world import FAST_HASH, problem


def test_token_is_shown_once_and_stored_hashed(world):
    created = world.call("ava", "POST", "/tokens", json={"name": "laptop"})
    assert created.status_code == 201
    plain = created.get_json()["token"]
    assert plain.startswith("cx_") and len(plain) > 40
    listed = world.call("ava", "GET", "/tokens").get_json()["items"]
    assert all("token" not in item for item in listed)
    stored = world.sql("SELECT token_hash FROM mk_api_token WHERE name='laptop'")[0].token_hash
    assert stored == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in str(world.sql("SELECT * FROM mk_api_token"))
    assert (
        world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).get_json()["email"]
        == "ava@creators.example"
    )
    token_id = created.get_json()["id"]
    assert world.call("ava", "DELETE", f"/tokens/{token_id}").status_code == 200
    problem(world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}), 401)


def test_bad_tokens_are_refused(world):
    for header in ("", "Bearer", "Bearer nope", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer cx_" + "a" * 43):
        problem(world.client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_inactive_user_token_stops_working(world):
    with world.services() as uow:
        from app.people.models import User

        user = uow.session.get(User, 1)
        user.is_active = False
        uow.commit()
    problem(world.call("ava", "GET", "/me"), 401)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_web_login_needs_csrf_and_the_right_password(world):
    client = world.client
    page = client.get("/login")
    assert page.status_code == 200
    token = _csrf(page.get_data(as_text=True))
    refused = client.post("/login", data={"email": "ava@creators.example", "password": "cameo-demo-2026"})
    assert refused.status_code == 400  # no CSRF token
    wrong = client.post("/login", data={"email": "ava@creators.example", "password": "guess", "csrf_token": token})
    assert wrong.status_code == 401 and "guess" not in wrong.get_data(as_text=True)
    ok = client.post(
        "/login?next=//evil.example/",
        data={"email": "AVA@creators.example ", "password": "cameo-demo-2026", "csrf_token": token},
    )
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_login_is_rate_limited(sqlite_url, tmp_path, clock):
    app = make_test_app(
        sqlite_url, tmp_path, clock, RATELIMIT_LOGIN="3 per minute", WTF_CSRF_ENABLED=False, **FAST_HASH
    )
    client = app.test_client()
    codes = [client.post("/login", data={"email": "x@example.com", "password": "y"}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    provided(Database, app).dispose()


def test_api_is_rate_limited_per_token(world):
    world.app.config["RATELIMIT_API"] = "2 per minute"
    assert [world.call("ava", "GET", "/me").status_code for _ in range(2)] == [200, 200]
    refused = world.call("ava", "GET", "/me")
    body = problem(refused, 429)
    assert body["title"] == "Too many requests" and "2 per 1 minute" in body["detail"]
    assert 1 <= body["retry_after"] <= 60 and refused.headers["Retry-After"] == str(body["retry_after"])
    # one budget per token across the whole API: the usage endpoints spend the same one
    assert world.call("ava", "GET", "/licences/1/usage").status_code == 429
    assert world.call("ben", "GET", "/me").status_code == 200  # another token, another bucket


def test_api_rate_limit_comes_before_authentication(world):
    world.app.config["RATELIMIT_API"] = "3 per minute"
    bad = {"Authorization": "Bearer cx_not-a-token"}
    codes = [world.client.get("/api/v1/me", headers=bad).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]  # the fourth bad token never reaches the database
    assert world.call("ava", "GET", "/me").status_code == 200


def test_secrets_never_logged(world, caplog):
    caplog.set_level("DEBUG")
    plain = world.call("ava", "POST", "/tokens", json={"name": "x"}).get_json()["token"]
    world.client.post("/login", data={"email": "ava@creators.example", "password": "cameo-demo-2026"})
    assert plain not in caplog.text and "cameo-demo-2026" not in caplog.text
