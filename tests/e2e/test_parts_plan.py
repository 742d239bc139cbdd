"""The parts map (add, relate through the list view, drag on the canvas) and the plan
(section editor → server → Help now, offline)."""

from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_for_worker, wait_synced


def add_part(page: Page, name: str, role: str) -> None:
    page.get_by_role("button", name="Add part").click()
    sheet = page.get_by_role("dialog")
    sheet.get_by_label("Name").fill(name)
    sheet.get_by_label("Role").select_option(role)
    sheet.get_by_role("button", name="Add part").click()
    expect(page.locator(f".part[data-id] >> text={name}")).to_be_visible()


def test_parts_map_add_relate_and_drag(pwa: Page, server_url, account):
    sign_in(pwa, server_url, account.email)
    pwa.goto(server_url + "/#/parts")
    add_part(pwa, "Worrier", "manager")
    add_part(pwa, "Young one", "exile")

    pwa.get_by_role("button", name="List").click()
    pwa.get_by_role("button", name="Add a relation").click()
    sheet = pwa.get_by_role("dialog")
    sheet.get_by_label("This part").select_option(label="Worrier")
    sheet.get_by_label("Relation").select_option("protects")
    sheet.get_by_label("That part").select_option(label="Young one")
    sheet.get_by_role("button", name="Add relation").click()
    expect(pwa.locator("#parts-list")).to_contain_text("Worrier protects Young one")

    wait_synced(pwa)  # a sync redraws the map: let it settle before dragging
    pwa.get_by_role("button", name="Map").click()
    expect(pwa.locator("#parts-canvas line.rel-protects")).to_have_count(1)
    node = pwa.get_by_role("button", name="Worrier, Manager").locator("circle")
    expect(node).to_be_visible()
    box = node.bounding_box()
    pwa.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
    pwa.mouse.down()
    pwa.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 3 + 40, steps=5)
    pwa.mouse.up()
    wait_synced(pwa)
    parts = {p["name"]: p for p in account.get("/api/v1/parts/map").json["parts"]}
    relations = account.get("/api/v1/parts/map").json["relations"]
    assert parts["Worrier"]["role"] == "manager" and parts["Young one"]["role"] == "exile"
    assert (parts["Worrier"]["x"], parts["Worrier"]["y"]) != (0, 0)
    assert [(r["source_id"], r["kind"], r["target_id"]) for r in relations] == [
        (parts["Worrier"]["id"], "protects", parts["Young one"]["id"])
    ]


def test_plan_sections_reach_the_server_and_help_now_offline(
    pwa: Page, context, server_url, account
):
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    pwa.goto(server_url + "/#/plan")
    signs = pwa.locator("details").filter(has_text="My early warning signs")
    signs.get_by_role("button", name="Add").click()
    signs.get_by_role("textbox").fill("I skip meals")
    people = pwa.locator("details").filter(has_text="People I can ask for help")
    people.get_by_role("button", name="Add someone").click()
    people.get_by_label("Name").fill("Sam")
    people.get_by_label("Phone").fill("+1 555 0123")
    pwa.get_by_role("button", name="Save plan").click()
    wait_synced(pwa)
    plan = account.get("/api/v1/plan").json
    assert plan["warning_signs"] == [{"text": "I skip meals"}]
    assert plan["support_contacts"][0]["name"] == "Sam"

    context.set_offline(True)
    pwa.get_by_role("link", name="Help now").click()
    expect(pwa.get_by_role("link", name="Call Sam")).to_have_attribute("href", "tel:+15550123")
    expect(pwa.get_by_text("I skip meals")).to_be_visible()
