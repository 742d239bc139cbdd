"""SIGKILL gunicorn on PostgreSQL while a client writes: nothing acknowledged is lost."""

from tests.conftest import fresh_database
from tests.crash import assert_nothing_lost, run_crash_test


def test_sigkill_mid_stream_loses_no_acknowledged_write_on_postgres(tmp_path):
    with fresh_database(tmp_path) as url:
        assert_nothing_lost(run_crash_test(url, tmp_path))
