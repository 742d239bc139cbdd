"""The installable shell: manifest, icons, a service worker that precaches every file
of the app in a versioned cache and never caches API answers."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.pwa import served_cache_name, sign_in, wait_for_worker

PWA = Path(__file__).resolve().parents[2] / "pwa"
# stylesheets of server-rendered pages (the API reference, the printable export)
NOT_SHELL = {"css/docs.css", "css/export.css"}
# screens that need the network anyway (sign-up, password reset, two-factor set-up, and
# passkeys, whose helpers sign-in.js loads only when one is used): loaded from it, so the
# shell stays small
NETWORK_ONLY = {"/js/views/account.js", "/js/views/security.js", "/js/webauthn.js"}


def precache_list() -> list[str]:
    source = (PWA / "sw.js").read_text()
    block = re.search(r"const SHELL = \[(.*?)\];", source, re.S).group(1)
    return re.findall(r"'([^']+)'", block)


def test_every_shell_file_is_precached_and_nothing_else():
    """Every file is precached but the therapist's screens (js/therapist/,
    css/therapist.css): the worker caches those on first use, so a patient's phone
    never downloads them; nor the screens that need the network anyway."""
    files = {
        "/" + str(p.relative_to(PWA))
        for p in PWA.rglob("*")
        if p.is_file() and str(p.relative_to(PWA)) not in NOT_SHELL and p.name != "sw.js"
    }
    therapist = {f for f in files if "/therapist" in f}
    assert therapist and not [p for p in precache_list() if "/therapist" in p]
    assert NETWORK_ONLY <= files
    assert set(precache_list()) - {"/"} == files - therapist - NETWORK_ONLY


def test_manifest_makes_the_app_installable(client):
    with client.get("/manifest.webmanifest") as response:
        manifest = response.get_json(force=True)
    assert manifest["display"] == "standalone"
    assert {"name", "short_name", "start_url", "theme_color", "background_color"} <= set(manifest)
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as response:  # closed: files are streamed
            assert response.status_code == 200
    assert [s["name"] for s in manifest["shortcuts"]] == ["New entry", "Check in", "Help now"]


def test_help_now_works_signed_out_and_offline(pwa: Page, context, server_url):
    pwa.goto(server_url + "/")
    wait_for_worker(pwa)
    context.set_offline(True)
    pwa.reload()
    expect(pwa.get_by_role("heading", name="Sign in")).to_be_visible()
    pwa.get_by_role("link", name="Help now").click()
    # signed out, nobody knows the region: the local emergency number, never a guess at
    # another country's lines (tests/e2e/test_crisis_regions.py: a region's own lines)
    expect(pwa.locator("#local-emergency")).to_contain_text("call your local emergency number")
    expect(pwa.locator("a[href^='tel:']")).to_have_count(0)
    expect(pwa.get_by_text("not an emergency service")).to_be_visible()


def test_api_answers_never_reach_cache_storage(pwa: Page, server_url, account, app):
    """The shell alone, in the cache the served worker names (a hash of the shell's
    files: tests/e2e/test_sw_update.py shows a new version arriving)."""
    sign_in(pwa, server_url, account.email)
    wait_for_worker(pwa)
    cached = pwa.evaluate(
        """async () => {
          const out = {};
          for (const name of await caches.keys()) {
            const requests = await (await caches.open(name)).keys();
            out[name] = requests.map((r) => new URL(r.url).pathname);
          }
          return out;
        }"""
    )
    name = served_cache_name(app)
    assert list(cached) == [name]
    assert not [path for path in cached[name] if path.startswith("/api/")]
