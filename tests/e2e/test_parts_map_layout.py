"""The parts map as a person sees it on a phone: parts laid out without overlap, relation
lines visible and labelled, "Connect parts" kept across a sync, long names wrapped, and
no serious accessibility problem in light or dark mode. At 320 × 640 and 390 × 844."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.pwa import sign_in, wait_synced

PHONES = {"320": {"width": 320, "height": 640}, "390": {"width": 390, "height": 844}}
NAMES = ["Planner", "Critic", "Young one", "Numbing", "Caretaker", "The one who hides"]
_axe = Axe()

# the map, and every circle and name label on it, in page pixels (read at one moment: a
# sync may redraw the map between two reads)
BOXES = """() => {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  const svg = document.getElementById('parts-canvas');
  const parts = [...svg.querySelectorAll('.part')].map((g) => ({
    id: g.dataset.id, circle: box(g.querySelector('circle')), label: box(g.querySelector('text')),
  }));
  return { frame: box(svg), parts };
}"""

# each relation's line: rendered length, its midpoint and whether that falls in a circle,
# and its label's box
RELATIONS = """() => {
  const svg = document.getElementById('parts-canvas');
  const circles = [...svg.querySelectorAll('.part circle')].map((c) => {
    const r = c.getBoundingClientRect();
    return { x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2, r: r.width / 2 };
  });
  return [...svg.querySelectorAll('.rel[data-rel]')].map((line) => {
    const length = line.getTotalLength();
    const mid = line.getPointAtLength(length / 2).matrixTransform(line.getScreenCTM());
    const style = getComputedStyle(line);
    const label = svg.querySelector(`.rel-label[data-rel="${line.dataset.rel}"]`);
    const lr = label && label.getBoundingClientRect();
    return {
      id: line.dataset.rel,
      length,
      shown: style.display !== 'none' && style.visibility !== 'hidden' && style.stroke !== 'none'
        && Number(style.strokeOpacity) > 0 && Number(style.opacity) > 0,
      midInCircle: circles.some((c) => Math.hypot(c.x - mid.x, c.y - mid.y) < c.r),
      label: label && label.textContent,
      labelBox: lr && [lr.left, lr.top, lr.right, lr.bottom],
    };
  });
}"""

SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SHEET_SIDEWAYS = (
    "() => { const d = document.querySelector('dialog'); return d.scrollWidth - d.clientWidth; }"
)

# a name longer than the server takes (100), as an old or foreign copy might hold
LONG_NAME = """(name) => new Promise((resolve) => {
  const open = indexedDB.open('between');
  open.onsuccess = () => {
    const t = open.result.transaction('parts', 'readwrite');
    const store = t.objectStore('parts');
    store.getAll().onsuccess = (e) => {
      const part = e.target.result.find((p) => p.name === 'Long');
      store.put({ ...part, name });
    };
    t.oncomplete = () => { open.result.close(); resolve(true); };
  };
})"""


def overlap(a, b, slack=0.5):
    apart_x = a[2] - slack <= b[0] or b[2] - slack <= a[0]
    apart_y = a[3] - slack <= b[1] or b[3] - slack <= a[1]
    return not (apart_x or apart_y)


def inside(inner, outer, slack=1):
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def part_button(page: Page, name: str):
    return page.locator("#parts-canvas").get_by_role("button", name=f"{name}, ")


def add_part(page: Page, name: str, role: str = "unknown") -> None:
    page.get_by_role("button", name="Add part").click()
    sheet = page.get_by_role("dialog")
    sheet.get_by_label("Name").fill(name)
    sheet.get_by_label("Role").select_option(role)
    sheet.get_by_role("button", name="Add part").click()
    expect(part_button(page, name)).to_be_visible()


def open_map(page: Page, server_url: str, phone: str, account) -> None:
    page.set_viewport_size(PHONES[phone])
    sign_in(page, server_url, account.email)
    page.goto(server_url + "/#/parts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Parts map")


def relate(page: Page, source: str, kind: str, target: str) -> None:
    page.get_by_role("button", name="List").click()
    page.get_by_role("button", name="Add a relation").click()
    sheet = page.get_by_role("dialog")
    sheet.get_by_label("This part").select_option(label=source)
    sheet.get_by_label("Relation").select_option(kind)
    sheet.get_by_label("That part").select_option(label=target)
    sheet.get_by_role("button", name="Add relation").click()
    expect(sheet).to_have_count(0)
    page.get_by_role("button", name="Map").click()


def assert_apart(page: Page) -> None:
    seen = page.evaluate(BOXES)
    frame, parts = seen["frame"], seen["parts"]
    for i, a in enumerate(parts):
        assert inside(a["circle"], frame) and inside(a["label"], frame), f"{a['id']} is off the map"
        for b in parts[i + 1 :]:
            assert not overlap(a["circle"], b["circle"]), "two circles overlap"
            assert not overlap(a["label"], b["label"]), "two names run into each other"
            assert not overlap(a["label"], b["circle"]), "a name runs under another circle"
            assert not overlap(b["label"], a["circle"]), "a name runs under another circle"


@pytest.mark.parametrize("phone", PHONES)
def test_six_parts_added_in_the_app_do_not_overlap(pwa: Page, server_url, account, phone):
    open_map(pwa, server_url, phone, account)
    for name in NAMES:
        add_part(pwa, name)
    expect(pwa.locator("#parts-canvas .part")).to_have_count(6)
    assert_apart(pwa)
    wait_synced(pwa)  # the positions reach the server and come back the same
    assert_apart(pwa)
    placed = account.get("/api/v1/parts/map").json["parts"]
    assert len({(p["x"], p["y"]) for p in placed}) == 6


@pytest.mark.parametrize("phone", PHONES)
def test_relation_lines_are_visible_between_circles_and_labelled(
    pwa: Page, server_url, account, phone
):
    open_map(pwa, server_url, phone, account)
    for name in NAMES[:5]:
        add_part(pwa, name)
    # the first and the fifth sit in one column with the second between them
    relate(pwa, "Planner", "protects", "Caretaker")
    relate(pwa, "Critic", "polarized_with", "Numbing")
    relate(pwa, "Young one", "allied_with", "Critic")
    expect(pwa.locator("#parts-canvas .rel[data-rel]")).to_have_count(3)
    relations = pwa.evaluate(RELATIONS)
    assert sorted(r["label"] for r in relations) == ["allied", "polarized", "protects"]
    parts = pwa.evaluate(BOXES)["parts"]
    for r in relations:
        assert r["length"] > 10 and r["shown"], r
        assert not r["midInCircle"], f"the {r['label']} line is hidden under a circle"
        for p in parts:
            assert not overlap(r["labelBox"], p["circle"]), f"“{r['label']}” covers a circle"
            assert not overlap(r["labelBox"], p["label"]), f"“{r['label']}” covers a name"
        for other in relations:
            if other is not r:
                assert not overlap(r["labelBox"], other["labelBox"]), "two relation labels collide"
    # lines lie beneath the circles
    assert pwa.evaluate(
        """() => {
          const svg = document.getElementById('parts-canvas');
          const line = svg.querySelector('.rel[data-rel]');
          const part = svg.querySelector('.part');
          return Boolean(line.compareDocumentPosition(part) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )


def api_part(account, name: str, **fields) -> str:
    """A part added on another device, through the API."""
    response = account.post("/api/v1/parts", json={"name": name, **fields})
    assert response.status_code == 201, response.json
    return response.json["id"]


def sync_now(page: Page) -> None:
    page.evaluate("() => window.dispatchEvent(new Event('online'))")


def sync_from_elsewhere(page: Page, account, name: str) -> None:
    """Another device adds a part; this one syncs and redraws the map."""
    api_part(account, name, x=-400, y=600)
    sync_now(page)
    expect(part_button(page, name)).to_be_attached()


@pytest.mark.parametrize("phone", PHONES)
def test_connect_parts_survives_a_sync(pwa: Page, server_url, account, phone):
    for name, x in [("Planner", 0), ("Critic", 160)]:
        api_part(account, name, x=x, y=0)
    open_map(pwa, server_url, phone, account)
    connect = pwa.get_by_role("button", name="Connect parts")
    connect.click()
    expect(connect).to_have_attribute("aria-pressed", "true")

    sync_from_elsewhere(pwa, account, "From the laptop")
    expect(connect).to_have_attribute("aria-pressed", "true")
    expect(pwa.locator("#map-hint")).to_have_text("Tap the first part.")
    part_button(pwa, "Planner").locator("circle").click()
    expect(pwa.locator("#map-hint")).to_contain_text("Now tap the part that Planner relates to")

    sync_from_elsewhere(pwa, account, "From the tablet")
    expect(pwa.locator("#map-hint")).to_contain_text("Now tap the part that Planner relates to")
    part_button(pwa, "Critic").locator("circle").click()
    sheet = pwa.get_by_role("dialog")
    expect(sheet.get_by_role("heading")).to_have_text("New relation")
    sheet.get_by_label("Relation").select_option("protects")
    sheet.get_by_role("button", name="Add relation").click()
    expect(sheet).to_have_count(0)
    wait_synced(pwa)
    parts = {p["id"]: p["name"] for p in account.get("/api/v1/parts/map").json["parts"]}
    relations = account.get("/api/v1/parts/map").json["relations"]
    assert [(parts[r["source_id"]], r["kind"], parts[r["target_id"]]) for r in relations] == [
        ("Planner", "protects", "Critic")
    ]
    expect(connect).to_have_attribute("aria-pressed", "false")


def test_a_long_unbroken_name_does_not_widen_the_screen(pwa: Page, server_url, account):
    api_part(account, "Long", x=0, y=0, description="d" * 5000)
    api_part(account, "Short", x=160, y=0)
    open_map(pwa, server_url, "320", account)
    long_name = "N" * 5000
    assert pwa.evaluate(LONG_NAME, long_name)
    pwa.reload()
    node = part_button(pwa, long_name[:50])
    expect(node).to_have_attribute("aria-label", f"{long_name}, Not sure yet")
    label = node.locator("text").text_content()
    assert label.endswith("…") and len(label) < 30
    assert pwa.evaluate(SIDEWAYS) <= 0, "the map scrolls sideways"

    pwa.get_by_role("button", name="Connect parts").click()
    node.locator("circle").click()
    expect(pwa.locator("#map-hint")).to_contain_text("Now tap the part that NNN")
    assert pwa.evaluate(SIDEWAYS) <= 0, "the connect hint scrolls sideways"
    pwa.get_by_role("button", name="Connect parts").click()

    pwa.get_by_role("button", name="List").click()
    expect(pwa.locator("#parts-list")).to_contain_text("NNNN")
    assert pwa.evaluate(SIDEWAYS) <= 0, "the list scrolls sideways"
    assert long_name in pwa.locator("#parts-list bdi").all_text_contents()
    pwa.locator("#parts-list button").filter(has_text="NNNN").click()
    sheet = pwa.get_by_role("dialog")
    expect(sheet).to_be_visible()
    assert pwa.evaluate(SIDEWAYS) <= 0, "the part's sheet scrolls sideways"
    assert pwa.evaluate(SHEET_SIDEWAYS) <= 0, "the part's sheet scrolls sideways inside"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("phone", PHONES)
def test_parts_map_has_no_serious_accessibility_violations(
    pwa: Page, server_url, account, phone, scheme
):
    pwa.emulate_media(color_scheme=scheme, reduced_motion="reduce")
    open_map(pwa, server_url, phone, account)
    roles = ["manager", "firefighter", "exile", "self", "unknown"]
    for name, role in zip(NAMES, roles, strict=False):
        add_part(pwa, name, role)
    wait_synced(pwa)
    ids = {p["name"]: p["id"] for p in account.get("/api/v1/parts/map").json["parts"]}
    for source, kind, target in [
        ("Planner", "protects", "Young one"),
        ("Critic", "polarized_with", "Planner"),
        ("Numbing", "allied_with", "Young one"),
        ("Caretaker", "blended_with", "Critic"),
    ]:
        body = {"source_id": ids[source], "kind": kind, "target_id": ids[target]}
        assert account.post("/api/v1/parts/relations", json=body).status_code == 201
    sync_now(pwa)
    expect(pwa.locator("#parts-canvas .rel")).to_have_count(4)
    found = {}
    for view in ["Map", "List"]:
        pwa.get_by_role("button", name=view).click()
        results = _axe.run(pwa)
        problems = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if problems:
            found[view] = problems
    assert not found, found
