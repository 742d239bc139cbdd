"""Several web processes share one rate-limit count through Redis."""

import os
import uuid

import pytest
import redis


@pytest.fixture
def redis_url():
    url = os.environ["TEST_REDIS_URL"]
    yield url
    with redis.Redis.from_url(url) as client:
        client.flushdb()


def test_redis_rate_limit_is_shared_between_processes(make_app, database_url, redis_url):
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_LOGIN": "3 per minute",
    }
    web1, web2 = make_app(config), make_app(config)
    body = {"email": f"{uuid.uuid4().hex}@example.test", "password": "wrong-password-x"}
    codes = []
    for web in (web1, web2, web1, web2):
        codes.append(web.test_client().post("/api/v1/auth/login", json=body).status_code)
    assert codes == [401, 401, 401, 429]


def test_a_login_with_cut_text_is_a_422_and_no_address_sits_in_redis(
    make_app, database_url, redis_url
):
    """The per-account limit keys on the address: hashed, so Redis holds none, and a
    lone surrogate (text a phone cut through an emoji) makes a key, not a 500."""
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_STORAGE_URI": redis_url}
    client = make_app(config).test_client()
    email = f"{uuid.uuid4().hex}@example.test"
    cut = client.post("/api/v1/auth/login", json={"email": "a\ud800@x.test", "password": "p"})
    assert cut.status_code == 422, cut.json
    client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-password-x"})
    with redis.Redis.from_url(redis_url) as store:
        keys = b" ".join(store.keys("*")).decode()
    assert "login-email:" in keys and email not in keys
