"""Every route refuses a request without a token, except the few meant to be public."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

PUBLIC = {("GET", "/api/v1/health"), ("GET", "/api/v1/public/progress"), ("POST", "/api/v1/auth/login")}


def test_every_route_but_the_public_ones_needs_a_token(api: TestClient) -> None:
    app = api.app
    assert isinstance(app, FastAPI)
    operations = [(method.upper(), path) for path, methods in app.openapi()["paths"].items() for method in methods]
    assert len(operations) > 20 and set(operations) >= PUBLIC
    for method, path in sorted(set(operations) - PUBLIC):
        reply = api.request(method, re.sub(r"\{[^}]+\}", "1", path))
        assert reply.status_code == 401, (method, path, reply.status_code, reply.text)
