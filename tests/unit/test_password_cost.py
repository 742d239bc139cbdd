"""The password hash's cost: full in every deployment, lowest under the test suite only."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters

from server.auth import passwords


def test_every_deployment_hashes_at_the_recommended_cost(monkeypatch):
    recommended = PasswordHasher()
    for env in ("production", "development", ""):
        monkeypatch.setenv("BETWEEN_ENV", env)
        hashed = passwords._make_hasher().hash("a-long-test-passphrase")
        params = extract_parameters(hashed)
        assert (params.time_cost, params.memory_cost, params.parallelism) == (
            recommended.time_cost,
            recommended.memory_cost,
            recommended.parallelism,
        ), env


def test_a_cheap_test_hash_is_brought_up_to_cost_at_a_deployments_next_sign_in(monkeypatch):
    cheap = passwords.hash_password("a-long-test-passphrase")  # the suite's cost
    assert extract_parameters(cheap).memory_cost < PasswordHasher().memory_cost
    monkeypatch.setenv("BETWEEN_ENV", "production")
    monkeypatch.setattr(passwords, "_hasher", passwords._make_hasher())
    assert passwords.verify_password(cheap, "a-long-test-passphrase")
    assert passwords.needs_rehash(cheap)
