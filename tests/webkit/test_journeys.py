"""The patient app in Safari's engine (WebKitGTK): signing up with no system locale,
journaling offline until the server answers again, the risk screen and Help now."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.auth.models import User
from server.extensions import db
from server.journal.models import JournalEntry

pytestmark = pytest.mark.webkit

SIGN_UP_PASSWORD = "a-long-webkit-passphrase"


def sign_up(phone, base_url: str, name: str, email: str) -> None:
    """Create an account through the form; the app then offers to join a care team."""
    phone.open(base_url + "/#/signin/create")
    phone.heading("Create account")
    phone.fill("Your name", name)
    phone.fill("Email", email)
    phone.fill("Password", SIGN_UP_PASSWORD)
    phone.tap(phone.button("Create account"))
    phone.wait_route("#/signin/join")  # the account exists: join a care team, or not yet
    phone.tap(phone.link("Not now"))
    phone.in_app()


def stored_user(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def test_sign_up_with_no_system_locale(phone, live_server, app):
    """WebKit with no locale says "C"; the account is made anyway, with the default."""
    phone.open(live_server.url + "/#/signin/create")
    assert phone.run("return navigator.language") == "C"  # the case this test is about

    sign_up(phone, live_server.url, "Robin", "robin@example.test")
    phone.wait_synced()
    user = stored_user(app, "robin@example.test")
    assert (user.display_name, user.locale) == ("Robin", "en-US")


def test_sign_up_with_a_us_english_locale(make_phone, live_server, app):
    phone = make_phone({"LANG": "en_US.UTF-8", "LANGUAGE": "en_US:en"})
    phone.open(live_server.url + "/#/signin/create")
    assert phone.run("return navigator.language") == "en-US"

    sign_up(phone, live_server.url, "Kit", "kit@example.test")
    assert stored_user(app, "kit@example.test").locale == "en-US"


def test_an_entry_written_offline_reaches_the_server_once(phone, live_server, app, account):
    body = "Wrote this on the train with no signal."
    phone.sign_in(live_server.url, account.email)
    phone.wait_for_worker()

    live_server.stop()  # the phone is offline
    phone.go("#/journal/new")
    phone.fill("Your words", body)
    phone.status_shown("Saved on this device")
    phone.tap(phone.button("Done"))
    phone.heading("Journal")
    phone.wait(lambda: "Saved on this device" in phone.entry(body).text, "the entry saved here")

    phone.driver.refresh()  # still offline: the worker serves the app, the device the entry
    phone.heading("Journal")
    assert "Saved on this device" in phone.entry(body).text
    assert account.get("/api/v1/journal/entries").json["entries"] == []  # nothing got out

    live_server.start()  # back online, on the same port
    phone.driver.refresh()  # opening the app again sends what waits
    phone.wait_synced()
    phone.wait(lambda: "Synced" in phone.entry(body).text, "the entry marked synced")

    entries = account.get("/api/v1/journal/entries").json["entries"]
    assert [e["body"] for e in entries] == [body]
    with app.app_context():  # one row in the database, not a copy per attempt
        ids = db.session.scalars(select(JournalEntry.id)).all()
    assert [str(i) for i in ids] == [entries[0]["id"]]


def answer_phq9_with_item_9(phone) -> None:
    """Eight "Not at all", then "Several days" on question 9 (thoughts of self-harm)."""
    phone.go("#/checkin/phq9")
    phone.heading("PHQ-9")
    for number in range(1, 9):
        phone.text_shown(f"Question {number} of")
        phone.tap(phone.button("Not at all"))
    phone.text_shown("Question 9 of")
    phone.tap(phone.button("Several days"))


def crisis_card_shown(phone) -> None:
    phone.heading("Help now")
    call = phone.find("//a[@href='tel:988']", "a tel: link for 988")
    assert "988" in call.text
    phone.text_shown("not an emergency service")


def test_a_risk_answer_offline_opens_help_now(phone, live_server, account):
    phone.sign_in(live_server.url, account.email)  # the first sync caches the crisis card
    phone.wait_for_worker()

    live_server.stop()
    answer_phq9_with_item_9(phone)
    phone.wait(lambda: phone.route().startswith("#/help/risk"), "Help now, opened by the answer")
    crisis_card_shown(phone)
    assert account.get("/api/v1/checkins").json["checkins"] == []  # shown with no server

    live_server.start()
    phone.driver.refresh()
    phone.wait_synced()
    [checkin] = account.get("/api/v1/checkins").json["checkins"]
    assert checkin["answers"]["phq9_9"] == 1
    assert checkin["flags"][0]["reason"] == "phq9_item9"


def test_help_now_is_one_tap_from_today_and_from_an_open_sheet(phone, live_server, account):
    phone.sign_in(live_server.url, account.email)  # lands on Today
    phone.tap(phone.top_bar_link("Help now"))
    crisis_card_shown(phone)

    phone.go("#/parts")
    phone.tap(phone.button("Add part"))
    phone.find("//dialog[@open]", "the new part sheet")
    phone.tap(phone.top_bar_link("Help now"))  # no need to close the sheet first
    crisis_card_shown(phone)
    assert phone.run("return document.querySelector('dialog[open]')") is None
