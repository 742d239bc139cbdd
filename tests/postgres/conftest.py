import os

import pytest

from tests.conftest import on_postgres


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/postgres/" not in str(item.fspath):
            continue
        if "redis" in item.name and not os.environ.get("TEST_REDIS_URL"):
            item.add_marker(pytest.mark.skip(reason="set TEST_REDIS_URL (make test in CI does)"))
        elif "redis" not in item.name and not on_postgres():
            item.add_marker(pytest.mark.skip(reason="set TEST_DATABASE_URL (make test in CI does)"))
