"""The therapist's side of issue 23, on a linked patient's brief: a measurement plan is
set, changed, seen paused by the patient and deleted; homework is assigned on a date or
days after the next dosing session, and reads open, done, late or skipped with the
patient's reason; the server's refusals sit beside the field they name and nothing typed
is lost; the brief's follow-through counts each plan's asks and lists each homework
item; the caseload counts homework; at 320 × 640 in dark mode nothing scrolls sideways
and axe finds nothing serious."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.e2e import test_production
from tests.e2e.pwa import set_device_pin, sign_in_therapist, unlock_device
from tests.e2e.test_screens import serious_violations
from tests.e2e.test_therapist_brief import BROWSER, name_of, no_sideways_scroll, phq9, session_at

# the production deployment (gunicorn over HTTPS, the worker, real keys) test_production runs
clinic = test_production.clinic
PHONE = {"width": 320, "height": 640}
LAPTOP = {"width": 1280, "height": 800}


def open_brief(browser, server_url, therapist, patient, viewport=LAPTOP, **extra):
    context = browser.new_context(viewport=viewport, **{**BROWSER, **extra})
    page = context.new_page()
    sign_in_therapist(page, server_url, therapist.email, therapist.password)
    page.goto(f"{server_url}/#/patient/{patient.id}")
    expect(page.locator("#plans #measure-list li").first).to_be_visible()
    return context, page


def shown(moment: datetime) -> str:
    """A moment as the app shows it to an en-US browser in UTC: "Fri, Dec 12, 6:00 PM"."""
    moment = moment.astimezone(UTC)
    year = f", {moment.year}" if moment.year != datetime.now(UTC).year else ""
    return (
        f"{moment.strftime('%a')}, {moment.strftime('%b')} {moment.day}{year}, "
        f"{moment.strftime('%I:%M %p').lstrip('0')}"
    )


def assignments(actor, patient) -> list[dict]:
    response = actor.get(f"/api/v1/patients/{patient.id}/assignments")
    assert response.status_code == 200, response.json
    return response.json["items"]


def homework(therapist, patient, **fields) -> dict:
    response = therapist.post(
        f"/api/v1/patients/{patient.id}/assignments", json={"kind": "homework", **fields}
    )
    assert response.status_code == 201, response.json
    return response.json


def time_field(form):
    """The time beside the due choice shown (each choice has its own)."""
    return form.get_by_label(re.compile("^Time")).locator("visible=true")


def days_field(form):
    return form.get_by_role("textbox", name=re.compile("^Days"))


def test_a_measurement_plan_is_set_changed_paused_by_the_patient_and_deleted(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    context, page = open_brief(browser, server_url, therapist, patient)
    page_errors.watch(page)
    plans = page.locator("#plans")
    expect(plans.locator("#measure-list")).to_have_text("No measurement plans.")

    plans.get_by_role("button", name="Add a measurement plan").click()
    form = plans.get_by_role("form", name="Add a measurement plan")
    form.get_by_label("Instrument").select_option("phq9")
    form.get_by_label("On days around each session of a kind").check()
    form.get_by_label("Session kind").select_option("dosing")
    days_field(form).fill("1, 7")
    form.get_by_label(re.compile("^Time")).fill("09:00")
    form.get_by_label(re.compile("^Hours to answer")).fill("48")
    assert not serious_violations(page)
    form.get_by_role("button", name="Add a measurement plan").click()

    item = plans.locator("#measure-list li.assignment")
    expect(item).to_have_count(1)
    expect(item.locator(".what")).to_have_text(
        "PHQ-9 · 1 and 7 days after each dosing session, at 09:00, their time · 48 hours to answer"
    )
    expect(item).to_contain_text(f"Set by {name_of(therapist)}")
    [plan] = assignments(therapist, patient)
    assert plan["schedule"] == {
        "type": "sessions",
        "session_kind": "dosing",
        "days": [1, 7],
        "time": "09:00",
    }
    assert plan["window_hours"] == 48
    # the patient's app learns who set it
    [theirs] = patient.get("/api/v1/assignments").json["items"]
    assert theirs["set_by"]["display_name"] == name_of(therapist)

    # changed: every Monday at 10:00, a day to answer
    item.get_by_role("button", name=re.compile("^Edit PHQ-9")).click()
    form = item.get_by_role("form", name="Edit the measurement plan")
    expect(days_field(form)).to_have_value("1, 7")  # it opens with what is set
    form.get_by_label("Every week").check()
    expect(days_field(form)).to_be_hidden()
    form.get_by_label("Day", exact=True).select_option("monday")
    form.get_by_label(re.compile("^Time")).fill("10:00")
    form.get_by_label(re.compile("^Hours to answer")).fill("24")
    form.get_by_role("button", name="Save changes").click()
    expect(item.locator(".what")).to_have_text(
        "PHQ-9 · Every Monday at 10:00, their time · 24 hours to answer"
    )
    [plan] = assignments(therapist, patient)
    assert plan["schedule"] == {"type": "weekly", "day": "monday", "time": "10:00"}
    assert (plan["window_hours"], plan["version"]) == (24, 2)

    # the patient pauses it on their phone: the therapist sees since when
    paused = patient.post(f"/api/v1/assignments/{plan['id']}/pause", json={"paused": True})
    assert paused.status_code == 200, paused.json
    page.reload()
    unlock_device(page)
    when = datetime.fromisoformat(paused.json["paused_at"])
    expect(item.locator(".paused")).to_have_text(f"Paused by the patient since {shown(when)}")

    item.get_by_role("button", name=re.compile("^Delete PHQ-9")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("no more reminders go out for it")
    dialog.get_by_role("button", name="Delete").click()
    expect(plans.locator("#measure-list")).to_have_text("No measurement plans.")
    assert assignments(therapist, patient) == []
    assert patient.get("/api/v1/assignments").json["items"] == []
    context.close()


def test_refusals_sit_beside_their_field_and_keep_what_was_typed(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    context, page = open_brief(browser, server_url, therapist, patient)
    page_errors.watch(page)
    plans = page.locator("#plans")
    plans.get_by_role("button", name="Add a measurement plan").click()
    form = plans.get_by_role("form", name="Add a measurement plan")
    form.get_by_label("Instrument").select_option("gad7")
    days_field(form).fill("-1, 40")  # four weeks after is the furthest
    form.get_by_role("button", name="Add a measurement plan").click()
    days = days_field(form)
    expect(days).to_have_attribute("aria-invalid", "true")
    error = form.locator(f"#{days.get_attribute('id')}-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("28")
    expect(days).to_have_accessible_description(re.compile("28"))
    expect(days).to_have_value("-1, 40")
    expect(form.get_by_label("Instrument")).to_have_value("gad7")
    assert assignments(therapist, patient) == []
    # words that are not days never leave the page
    days.fill("1, seven")
    form.get_by_role("button", name="Add a measurement plan").click()
    expect(error).to_have_text("Whole numbers separated by commas, like 1, 7 or -1.")
    days.fill("-1, 28")
    form.get_by_role("button", name="Add a measurement plan").click()
    item = plans.locator("#measure-list li.assignment")
    expect(item.locator(".what")).to_have_text(
        "GAD-7 · 1 day before, 28 days after each dosing session, at 09:00, their time · "
        "48 hours to answer"
    )

    # a prompt with no words: refused beside "What to do", the due date kept
    plans.get_by_role("button", name="Assign homework").click()
    hw = plans.get_by_role("form", name="Assign homework")
    hw.get_by_label("Kind of homework").select_option("prompt")
    hw.get_by_label("Date", exact=True).fill("2031-03-04")
    hw.get_by_role("button", name="Assign homework").click()
    text = hw.get_by_label(re.compile("^What to do"))
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(hw.locator(f"#{text.get_attribute('id')}-error")).to_contain_text("needs words")
    expect(hw.get_by_label("Date", exact=True)).to_have_value("2031-03-04")
    text.fill("Write to the part that keeps you busy.")
    hw.get_by_role("button", name="Assign homework").click()
    expect(plans.locator("#homework-list li.assignment")).to_contain_text(
        "Write to the part that keeps you busy."
    )

    # a plan changed elsewhere while the form was open: told so, the typing kept, and
    # a second save puts it over the newer copy
    item.get_by_role("button", name=re.compile("^Edit GAD-7")).click()
    edit = item.get_by_role("form", name="Edit the measurement plan")
    edit.get_by_label(re.compile("^Hours to answer")).fill("72")
    [plan] = [a for a in assignments(therapist, patient) if a["kind"] == "measure"]
    meanwhile = therapist._open(  # Actor has no patch(): its request, audit-checked
        "PATCH",
        f"/api/v1/patients/{patient.id}/assignments/{plan['id']}",
        json={"window_hours": 12, "version": plan["version"]},
    )
    assert meanwhile.status_code == 200, meanwhile.json
    edit.get_by_role("button", name="Save changes").click()
    expect(edit.get_by_role("alert")).to_contain_text("changed meanwhile")
    expect(edit.get_by_role("alert")).to_contain_text("12 hours to answer")
    expect(edit.get_by_label(re.compile("^Hours to answer"))).to_have_value("72")
    edit.get_by_role("button", name="Save changes").click()
    expect(item.locator(".what")).to_contain_text("72 hours to answer")
    context.close()


def test_homework_is_assigned_and_reads_open_done_late_or_skipped_with_the_reason(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    now = datetime.now(UTC)
    dosing = session_at(
        therapist, patient, "dosing", (now + timedelta(days=3)).replace(hour=10, minute=0)
    )
    context, page = open_brief(browser, server_url, therapist, patient)
    page_errors.watch(page)
    plans = page.locator("#plans")
    listed = plans.locator("#homework-list li.assignment")

    # a writing prompt due on a date
    plans.get_by_role("button", name="Assign homework").click()
    form = plans.get_by_role("form", name="Assign homework")
    form.get_by_label("Kind of homework").select_option("prompt")
    form.get_by_label(re.compile("^What to do")).fill("What did the quiet part want you to know?")
    due = (now + timedelta(days=5)).replace(hour=18, minute=0, second=0, microsecond=0)
    form.get_by_label("On a date").check()
    form.get_by_label("Date", exact=True).fill(due.strftime("%Y-%m-%d"))
    time_field(form).fill("18:00")
    form.get_by_role("button", name="Assign homework").click()
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text(f"Due {shown(due)}")

    # a plan review, two days after the next dosing session at 18:00 (the patient's time)
    plans.get_by_role("button", name="Assign homework").click()
    form = plans.get_by_role("form", name="Assign homework")
    form.get_by_label("Kind of homework").select_option("plan_review")
    form.get_by_label("Some days after a session").check()
    form.get_by_label(re.compile("^Days after")).fill("2")
    expect(form.get_by_label("After the session")).to_have_value(dosing["id"])
    time_field(form).fill("18:00")
    form.get_by_role("button", name="Assign homework").click()
    expect(listed).to_have_count(2)
    review_due = datetime.fromisoformat(dosing["starts_at"]).replace(hour=18) + timedelta(days=2)
    session_words = f"dosing session, {shown(datetime.fromisoformat(dosing['starts_at']))}"
    review = listed.filter(has_text="Plan review")
    expect(review).to_contain_text(f"Due {shown(review_due)} (2 days after the {session_words})")
    for item in (listed.first, review):
        expect(item.locator(".status .badge")).to_have_text("Open")

    # one overdue, set through the API: late while open
    late = homework(
        therapist,
        patient,
        homework_type="parts_exercise",
        text="Draw the protector and the one it protects.",
        due_at=(now - timedelta(days=1)).isoformat(),
    )
    items = {a["homework_type"]: a for a in assignments(therapist, patient)}
    answered = patient.post(f"/api/v1/assignments/{items['prompt']['id']}/done", json={})
    assert answered.status_code == 200, answered.json
    skipped = patient.post(
        f"/api/v1/assignments/{items['plan_review']['id']}/skip",
        json={"reason": "Away at my sister's that week"},
    )
    assert skipped.status_code == 200, skipped.json
    page.reload()
    unlock_device(page)
    expect(listed).to_have_count(3)
    prompt = listed.filter(has_text="Writing prompt")
    expect(prompt.locator(".status .badge")).to_have_text("Done")
    done_at = datetime.fromisoformat(answered.json["done_at"])
    expect(prompt.locator(".status")).to_contain_text(f"Completed {shown(done_at)}")
    expect(review.locator(".status")).to_have_text("Skipped Reason: Away at my sister's that week")
    overdue = listed.filter(has_text="Parts-map exercise")
    expect(overdue.locator(".status .badge")).to_have_text("Late")
    expect(overdue).to_have_class(re.compile(r"\bstatus-late\b"))

    overdue.get_by_role("button", name="Delete Parts-map exercise").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(listed).to_have_count(2)
    assert late["id"] not in {a["id"] for a in assignments(therapist, patient)}
    context.close()


def plant_asks(app, patient, plan_id: str, fired: list[datetime], hours: int) -> None:
    """Asks of a plan that went out in the past, as the worker records them (one
    occurrence a slot). The worker asks at its own now, never back in time, and a brief
    counts up to the real now: so the rows it would have written are planted."""
    import uuid

    from server.extensions import db
    from server.reminders.models import ReminderOccurrence

    with app.app_context():
        for at in fired:
            db.session.add(
                ReminderOccurrence(
                    user_id=uuid.UUID(patient.id),
                    kind="measure",
                    slot=f"measure:{plan_id}:{at.date().isoformat()}",
                    ref_id=uuid.UUID(plan_id),
                    fire_at=at,
                    expires_at=at + timedelta(hours=hours),
                )
            )
        db.session.commit()
        db.session.remove()


def test_follow_through_and_the_caseloads_homework_count_read_on_a_phone_in_the_dark(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    now = datetime.now(UTC).replace(microsecond=0)
    made = therapist.post(
        f"/api/v1/patients/{patient.id}/assignments",
        json={
            "kind": "measure",
            "instrument": "phq9",
            "schedule": {"type": "weekly", "day": "monday", "time": "09:00"},
            "window_hours": 24,
        },
    )
    assert made.status_code == 201, made.json
    plan = made.json
    fired = [now - timedelta(days=6), now - timedelta(days=4), now - timedelta(days=2)]
    fired.append(now - timedelta(hours=2))
    plant_asks(app, patient, plan["id"], fired, hours=24)
    phq9(patient, 8, fired[0] + timedelta(hours=20))  # in its 24 h: on time
    phq9(patient, 7, fired[1] + timedelta(hours=30))  # after it, before the next: late
    # the third never answered: missed; the fourth still in its window: open
    upcoming = homework(
        therapist,
        patient,
        homework_type="prompt",
        text="Notice one moment each day when the critic goes quiet.",
        due_at=(now + timedelta(days=2)).isoformat(),
    )
    overdue = homework(
        therapist,
        patient,
        homework_type="plan_review",
        due_at=(now - timedelta(days=1)).isoformat(),
    )
    answered = homework(
        therapist,
        patient,
        homework_type="parts_exercise",
        text="Ask the protector what it fears would happen.",
        due_at=(now + timedelta(days=1)).isoformat(),
    )
    skipped = homework(
        therapist,
        patient,
        homework_type="prompt",
        text="Write a letter you will not send.",
        due_at=(now + timedelta(days=3)).isoformat(),
    )
    assert patient.post(f"/api/v1/assignments/{answered['id']}/done", json={}).status_code == 200
    reason = {"reason": "Not ready for that one yet"}
    assert patient.post(f"/api/v1/assignments/{skipped['id']}/skip", json=reason).status_code == 200

    context = browser.new_context(viewport=PHONE, color_scheme="dark", **BROWSER)
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, therapist.email, therapist.password)
    row = page.locator(f"#caseload tbody tr[data-patient-id='{patient.id}']")
    counts = row.locator("td.homework")
    expect(counts).to_have_text("1 late · 1 open · 1 skipped · 1 done")
    box = counts.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box  # no sideways scroll
    no_sideways_scroll(page, "caseload")
    assert not serious_violations(page)

    row.get_by_role("link", name=name_of(patient), exact=True).click()
    follow = page.locator("section.follow-through")
    cells = follow.locator(f"tr[data-assignment-id='{plan['id']}'] td")
    expect(follow.locator("tr[data-instrument='phq9'] th")).to_have_text("PHQ-9")
    expect(cells).to_have_text(["4", "1", "1", "1", "1"])  # asked, on time, late, missed, open
    listed = follow.locator(".follow-homework li")
    expect(listed).to_have_count(4)
    status = {
        upcoming["id"]: "Open",
        overdue["id"]: "Late",
        answered["id"]: "Done",
        skipped["id"]: "Skipped",
    }
    for assignment_id, words in status.items():
        item = listed.locator(f"xpath=self::*[@data-assignment-id='{assignment_id}']")
        expect(item.locator(".badge")).to_have_text(words)
    expect(listed.filter(has_text="Skipped")).to_contain_text("Reason: Not ready for that one yet")
    # on paper: what happened; homework still to come takes no line of the brief
    page.emulate_media(media="print")
    expect(cells.first).to_be_visible()
    expect(listed.filter(has_text="Open")).to_be_hidden()
    expect(listed.filter(has_text="Late")).to_be_visible()
    page.emulate_media(media="screen")

    # the forms open, on a phone, in the dark: nothing wider than the screen, nothing
    # axe finds serious
    plans = page.locator("#plans")
    expect(plans.locator("#homework-list li.assignment")).to_have_count(4)
    plans.get_by_role("button", name="Add a measurement plan").click()
    plans.get_by_role("button", name="Assign homework").click()
    expect(plans.get_by_role("form")).to_have_count(2)
    no_sideways_scroll(page, "brief with both forms open")
    assert not serious_violations(page)
    context.close()


def test_in_production_homework_set_on_the_brief_reaches_the_patient_sealed(clinic, browser):
    """Production settings: gunicorn over HTTPS, the strict CSP, Secure cookies, real
    field keys, two-factor for therapists. The forms work there, what the therapist
    typed and what the patient answered is ciphertext at rest and in no log line."""
    import pyotp
    import sqlalchemy as sa

    invited = clinic.flask("therapists", "invite", "dr.lee@clinic.test", "--name", "Dr Lee")
    assert invited.returncode == 0, invited.stderr
    signup = re.search(r"https://\S+#/signin/therapist/\S+", invited.stdout).group(0)
    desk = browser.new_context(ignore_https_errors=True, viewport=LAPTOP, **BROWSER)
    desk.set_default_timeout(60_000)  # gunicorn, the worker and the browser share 2 cores
    t = desk.new_page()
    t.goto(signup)
    t.get_by_label("Password").fill("a-long-clinic-passphrase")
    t.get_by_role("button", name="Create my account").click()
    set_device_pin(t)
    t.get_by_role("button", name=re.compile("Set up two-factor")).click()
    secret = t.locator("#totp-secret").inner_text().replace(" ", "")
    t.get_by_label(re.compile("6-digit code")).fill(pyotp.TOTP(secret).now())
    t.get_by_role("button", name="Turn on").click()
    t.get_by_role("button", name="Done").click()
    t.get_by_role("button", name="Invite a patient").click()
    code = t.locator("#invite-code").inner_text()

    sam = clinic.http
    account = {"email": "sam@example.test", "password": "a-long-patient-passphrase"}
    made = sam.post(
        clinic.url + "/api/v1/auth/register",
        json={**account, "display_name": "Sam", "role": "patient"},
    )
    assert made.status_code == 201, made.text
    assert sam.post(clinic.url + "/api/v1/care-team/join", json={"code": code}).ok

    t.reload()  # the caseload, now with Sam
    unlock_device(t)
    t.get_by_role("link", name="Sam", exact=True).click()
    plans = t.locator("#plans")
    plans.get_by_role("button", name="Assign homework").click()
    form = plans.get_by_role("form", name="Assign homework")
    words = "Write down what the quiet part wanted you to know."
    form.get_by_label(re.compile("^What to do")).fill(words)
    form.get_by_label("Date", exact=True).fill("2031-03-04")
    time_field(form).fill("18:00")
    form.get_by_role("button", name="Assign homework").click()
    expect(plans.locator("#homework-list li.assignment")).to_contain_text(words)

    [item] = sam.get(clinic.url + "/api/v1/assignments").json()["items"]
    assert (item["text"], item["set_by"]["display_name"]) == (words, "Dr Lee")
    reason = "Travelling for work until Sunday"
    skipped = sam.post(
        f"{clinic.url}/api/v1/assignments/{item['id']}/skip", json={"reason": reason}
    )
    assert skipped.ok, skipped.text
    t.reload()
    unlock_device(t)
    expect(plans.locator("#homework-list .status")).to_have_text(f"Skipped Reason: {reason}")

    engine = sa.create_engine(clinic.env["DATABASE_URL"])
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT text, skip_reason FROM assignments")).one()
    engine.dispose()
    assert words not in str(stored) and reason not in str(stored)
    for name in ("web", "worker"):
        logged = "".join(line for line in clinic.outputs[name].lines if line)
        assert words not in logged and reason not in logged
        assert "Traceback" not in logged, logged[-3000:]
    desk.close()


def test_a_therapist_who_reads_spanish_sets_plans_in_spanish(
    browser, app, server_url, page_errors, therapist, patient, link
):
    link(therapist, patient)
    spanish = therapist._open("PATCH", "/api/v1/auth/me", json={"locale": "es-ES"})
    assert spanish.status_code == 200, spanish.json
    plan = {"type": "sessions", "session_kind": "dosing", "days": [7, -1, 1], "time": "09:00"}
    made = therapist.post(
        f"/api/v1/patients/{patient.id}/assignments",
        json={"kind": "measure", "instrument": "phq9", "schedule": plan, "window_hours": 1},
    )
    assert made.status_code == 201, made.json
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    homework(therapist, patient, homework_type="plan_review", due_at=due)
    context = browser.new_context(viewport=LAPTOP, **{**BROWSER, "locale": "es-ES"})
    page = page_errors.watch(context.new_page())
    sign_in_therapist(page, server_url, therapist.email, therapist.password)
    row = page.locator(f"#caseload tbody tr[data-patient-id='{patient.id}']")
    expect(row.locator("td.homework")).to_have_text("1 pendiente")
    expect(page.locator("#caseload thead th").last).to_have_text("Tareas")
    page.goto(f"{server_url}/#/patient/{patient.id}")
    plans = page.locator("#plans")
    expect(plans.get_by_role("heading", level=2)).to_have_text("Planes y tareas")
    expect(plans.locator("#measure-list .what")).to_have_text(
        "PHQ-9 · 1 día antes, 1 y 7 días después de cada sesión de dosificación, a las 09:00, "
        "hora del paciente · 1 hora para responder"
    )
    expect(plans.locator("#homework-list .badge")).to_have_text("Pendiente")
    plans.get_by_role("button", name="Asignar una tarea").click()
    expect(plans.get_by_role("form", name="Asignar una tarea")).to_contain_text("Qué hacer")
    context.close()
