"""CSRF: with protection on (the default), a form without its token is refused and
changes nothing; with the token from the page it goes through."""

from __future__ import annotations

import re

from tests.web.conftest import html


def test_forms_need_their_csrf_token(csrf_site):
    site = csrf_site
    site.login("ava")
    before = site.fingerprint()
    for path, data in [
        ("/licences/2/approve", {}),
        ("/creator/cameos/1/pause", {}),
        ("/creator/cameos/new", {"kind": "face", "title": "X", "visibility": "licensed"}),
        ("/licences/2/approve", {"csrf_token": "forged"}),
    ]:
        response = site.post(path, data)
        assert response.status_code == 400, path
        assert "CSRF" in html(response)
    assert site.fingerprint() == before
    page = html(site.get("/creator"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert site.post("/licences/2/approve", {"csrf_token": token}).status_code == 303
    assert site.sql("SELECT status FROM mk_licence WHERE id = 2") == [("approved",)]


def test_logout_needs_the_token_too(csrf_site):
    csrf_site.login("dana")
    assert csrf_site.post("/logout").status_code == 400
    assert "Log out" in html(csrf_site.get("/"))
