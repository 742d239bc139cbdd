"""SIGKILL gunicorn on SQLite while a client writes: nothing acknowledged is lost."""

from tests.crash import assert_nothing_lost, run_crash_test


def test_sigkill_mid_stream_loses_no_acknowledged_write_on_sqlite(tmp_path):
    outcome = run_crash_test(f"sqlite:///{tmp_path / 'crash.db'}", tmp_path)
    assert_nothing_lost(outcome)
