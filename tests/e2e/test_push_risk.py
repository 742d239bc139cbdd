"""A reminder arrives as a push, shows a notification, and its click opens the check-in;
a PHQ-9 answered offline with item 9 above 0 opens Help now with the person's own
contacts, from the card cached on this device, and says who was told (here: nobody)."""

import json
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_for, wait_for_worker, wait_synced

PLAN = {
    "version": 0,
    "warning_signs": [{"text": "I stop answering messages"}],
    "coping_steps": [{"text": "Walk around the block"}],
    "support_contacts": [{"name": "Alex", "relation": "sister", "phone": "+1 555 0100"}],
}
# what server/reminders sends: a type, the delivery id, a link, generic words
PAYLOAD = {
    "type": "checkin",
    "id": str(uuid.uuid4()),
    "url": "/#/checkin/phq9",
    "body": "Time for your check-in",
}
NOTIFICATIONS = (
    "navigator.serviceWorker.ready.then(r => r.getNotifications())"
    ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag})))"
)
# which deliveries the notifications shown came from
SHOWN_IDS = (
    "() => navigator.serviceWorker.ready.then(r => r.getNotifications())"
    ".then(ns => ns.map(n => n.data && n.data.id))"
)
# Chromium has no DevTools call that clicks a notification: dispatch the same event
# the browser would, in the worker. waitUntil is refused on an untrusted event, so the
# test's event carries its own.
CLICK_FIRST = """async () => {
  const [n] = await self.registration.getNotifications();
  const event = new NotificationEvent('notificationclick', { notification: n });
  let done;
  Object.defineProperty(event, 'waitUntil', { value: (p) => { done = p; } });
  self.dispatchEvent(event);
  await done;
}"""


def deliver_push(context, page: Page, server_url: str, payload: dict) -> None:
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    # DevTools reports the registrations as events, after enable has answered
    registration = wait_for(
        page,
        lambda: next((r for r in registrations if not r["isDeleted"]), None),
        "DevTools to report the service worker's registration",
    )
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server_url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(payload),
        },
    )


def wait_for_notifications(page: Page) -> list:
    # getNotifications() answers with a promise, which wait_for_function would not await
    return wait_for(page, lambda: page.evaluate(NOTIFICATIONS), "a notification shown")


def test_push_opens_checkin_and_offline_risk_answer_opens_help_now(
    pwa: Page, context, server_url, account
):
    assert account.put("/api/v1/plan", json=PLAN).status_code == 200
    context.grant_permissions(["notifications"], origin=server_url)
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)

    deliver_push(context, pwa, server_url, PAYLOAD)
    wait_for_notifications(pwa)
    assert pwa.evaluate(NOTIFICATIONS) == [
        {"title": "Between", "body": "Time for your check-in", "tag": "between:/#/checkin/phq9"}
    ]
    again = str(uuid.uuid4())
    deliver_push(context, pwa, server_url, {**PAYLOAD, "id": again})
    # once the second delivery is shown, the first must be gone: replaced, not piled up

    def shown_again():
        ids = pwa.evaluate(SHOWN_IDS)
        return ids if again in ids else None

    assert wait_for(pwa, shown_again, "the second push shown") == [again]

    context.service_workers[0].evaluate(CLICK_FIRST)
    expect(pwa.get_by_role("heading", name="PHQ-9")).to_be_visible()
    assert pwa.url.endswith("#/checkin/phq9")

    context.set_offline(True)
    for _ in range(8):
        pwa.get_by_role("button", name="Not at all").click()
    expect(pwa.get_by_text("Question 9 of 10")).to_be_visible()
    pwa.get_by_role("button", name="Several days").click()

    expect(pwa.get_by_role("heading", name="Help now")).to_be_visible()
    expect(pwa.get_by_role("alert")).to_contain_text("Thank you for answering honestly")
    expect(pwa.get_by_role("link", name="Call Alex")).to_have_attribute("href", "tel:+15550100")
    expect(pwa.get_by_text("I stop answering messages")).to_be_visible()
    expect(pwa.get_by_text("Walk around the block")).to_be_visible()
    expect(pwa.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(pwa.get_by_text("not an emergency service")).to_be_visible()
    # no therapist linked: the screen says nobody was told, rather than promise an alert
    expect(pwa.locator("#care-line")).to_contain_text("nobody in Between was told")

    context.set_offline(False)
    wait_synced(pwa)
    [checkin] = account.get("/api/v1/checkins").json["checkins"]
    assert checkin["answers"]["phq9_9"] == 1
    assert checkin["flags"][0]["reason"] == "phq9_item9"
