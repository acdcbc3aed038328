from __future__ import annotations

import urllib.request

from tests.helpers.live_server import LiveServer


def test_serve_migrates_and_answers_over_http(live_server: LiveServer) -> None:
    with urllib.request.urlopen(live_server.url + "/", timeout=10) as response:
        assert response.status == 200
        assert b"projects" in response.read()
