"""The PWA's files as the server hands them out: a service worker whose cache name
follows the files it caches, and text assets compressed when the browser asks."""

import gzip
import re
from pathlib import Path

import brotli
import pytest

PWA = Path(__file__).resolve().parents[2] / "pwa"
CACHE_NAME = re.compile(r"between-static-v[0-9a-f]+")


def cache_name(client) -> str:
    with client.get("/sw.js") as response:
        assert response.status_code == 200
        source = response.get_data(as_text=True)
    assert "const PREFIX = 'between-static-v';" in source
    return "between-static-v" + re.search(r"^const VERSION = '([0-9a-f]+)';", source, re.M)[1]


@pytest.fixture
def serve(make_app, database_url):
    """A new app (a server start) serving the PWA from `pwa_dir`; its test client."""

    def start(pwa_dir):
        app = make_app({"SQLALCHEMY_DATABASE_URI": database_url, "PWA_DIR": str(pwa_dir)})
        return app.test_client()

    return start


@pytest.mark.parametrize(
    "changed", ["js/outbox.js", "js/views/journal.js", "app.js", "css/app.css", "index.html"]
)
def test_changing_any_cached_shell_file_changes_the_cache_name(pwa_copy, serve, changed):
    """A deploy that touches one shell file, and not sw.js, still reaches installed
    phones: the worker's bytes change, so the browser installs it again."""
    before = cache_name(serve(pwa_copy))
    assert CACHE_NAME.fullmatch(before)
    path = pwa_copy / changed
    path.write_bytes(path.read_bytes() + b"\n")
    after = cache_name(serve(pwa_copy))
    assert CACHE_NAME.fullmatch(after) and after != before


def test_changing_the_worker_itself_changes_the_cache_name(pwa_copy, serve):
    before = cache_name(serve(pwa_copy))
    worker = pwa_copy / "sw.js"
    worker.write_text(worker.read_text().replace("-- push\n", "-- push (reworded)\n"))
    assert cache_name(serve(pwa_copy)) != before


def test_the_same_files_give_the_same_cache_name_in_every_process(pwa_copy, serve, client):
    """Every gunicorn worker computes the same name, or phones would reinstall on
    every request that lands on another worker."""
    name = cache_name(client)
    assert cache_name(serve(pwa_copy)) == name
    assert cache_name(serve(pwa_copy)) == name
    assert cache_name(client) == name


def test_a_file_outside_the_shell_leaves_the_cache_name_alone(pwa_copy, serve):
    """The therapist's screens are cached on first use, never precached."""
    before = cache_name(serve(pwa_copy))
    css = pwa_copy / "css" / "therapist.css"
    css.write_bytes(css.read_bytes() + b"\n")
    assert cache_name(serve(pwa_copy)) == before


def test_the_served_worker_is_the_file_on_disk_with_its_version_filled_in(client):
    with client.get("/sw.js") as response:
        served = response.get_data(as_text=True)
    on_disk = (PWA / "sw.js").read_text()
    version = re.search(r"^const VERSION = '([0-9a-f]+)';", served, re.M)[1]
    assert served == re.sub(
        r"^const VERSION = .*;$", f"const VERSION = '{version}';", on_disk, flags=re.M
    )
    assert re.search(r"const SHELL = \[(.*?)\];", served, re.S)  # bench/pwa.py reads it


# -- compression ---------------------------------------------------------------------------

TEXT_ASSETS = [
    ("/", "index.html"),
    ("/index.html", "index.html"),
    ("/app.js", "app.js"),
    ("/js/views/journal.js", "js/views/journal.js"),
    ("/js/therapist/brief.js", "js/therapist/brief.js"),
    ("/css/app.css", "css/app.css"),
    ("/manifest.webmanifest", "manifest.webmanifest"),
    ("/sw.js", None),  # compared with what is served uncompressed
]
DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}


def expected_body(client, path, file):
    if file:
        return (PWA / file).read_bytes()
    with client.get(path) as plain:
        return plain.get_data()


@pytest.mark.parametrize("encoding", ["gzip", "br"])
@pytest.mark.parametrize(("path", "file"), TEXT_ASSETS)
def test_text_assets_are_compressed_when_asked(client, path, file, encoding):
    with client.get(path, headers={"Accept-Encoding": f"{encoding}, deflate"}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.get_data()
        assert int(response.headers["Content-Length"]) == len(body)
    assert DECODE[encoding](body) == expected_body(client, path, file)
    assert len(body) < len(expected_body(client, path, file))


@pytest.mark.parametrize(("path", "file"), TEXT_ASSETS)
def test_text_assets_are_plain_when_not_asked(client, path, file):
    for headers in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0, br;q=0"}):
        with client.get(path, headers=headers) as response:
            assert response.status_code == 200
            assert "Content-Encoding" not in response.headers
            assert "Accept-Encoding" in response.headers["Vary"]
            body = response.get_data()
        if file:
            assert body == (PWA / file).read_bytes()


def test_brotli_is_preferred_and_quality_values_are_honoured(client):
    def encoding(accept):
        with client.get("/app.js", headers={"Accept-Encoding": accept}) as response:
            return response.headers.get("Content-Encoding")

    assert encoding("gzip, deflate, br, zstd") == "br"
    assert encoding("br;q=0.5, gzip") == "gzip"
    assert encoding("br;q=0, gzip") == "gzip"
    assert encoding("*") == "br"
    assert encoding("deflate") is None


@pytest.mark.parametrize(
    "path", ["/", "/app.js", "/css/app.css", "/sw.js", "/manifest.webmanifest"]
)
def test_each_encoding_has_its_own_etag_and_revalidates_to_304(client, path):
    tags = {}
    for accept in ("br", "gzip", "identity"):
        with client.get(path, headers={"Accept-Encoding": accept}) as response:
            tags[accept] = response.headers["ETag"]
            cache_control = response.headers["Cache-Control"]
        with client.get(
            path, headers={"Accept-Encoding": accept, "If-None-Match": tags[accept]}
        ) as again:
            assert again.status_code == 304 and again.get_data() == b""
            assert "Accept-Encoding" in again.headers["Vary"]
            assert again.headers["ETag"] == tags[accept]
    assert len(set(tags.values())) == 3
    # another encoding's tag is not this representation
    with client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": tags["br"]}) as r:
        assert r.status_code == 200
    if path in {"/", "/sw.js", "/manifest.webmanifest"}:
        assert cache_control == "no-cache"  # the worker and the shell revalidate


def test_head_answers_like_get_without_a_body(client):
    with client.get("/app.js", headers={"Accept-Encoding": "gzip"}) as got:
        length = got.headers["Content-Length"]
    with client.head("/app.js", headers={"Accept-Encoding": "gzip"}) as head:
        assert head.status_code == 200
        assert head.headers["Content-Encoding"] == "gzip"
        assert head.headers["Content-Length"] == length
        assert head.get_data() == b""


def test_images_are_served_as_they_are(client):
    with client.get("/icons/icon-192.png", headers={"Accept-Encoding": "gzip, br"}) as response:
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers
        assert response.get_data() == (PWA / "icons" / "icon-192.png").read_bytes()


@pytest.mark.parametrize("path", ["/api/v1/auth/me", "/api/v1/openapi.json", "/api/v1/nope"])
def test_api_answers_are_never_compressed(patient, path):
    """Compressing secrets beside reflected input leaks them to a length observer (BREACH)."""
    response = patient.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in response.headers


def test_unknown_files_are_still_404(client):
    with client.get("/js/nope.js", headers={"Accept-Encoding": "gzip"}) as response:
        assert response.status_code == 404
    with client.get("/../server/__init__.py") as response:
        assert response.status_code == 404
