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
