"""Serve the buildless PWA from `pwa/` at the site root.

At start the app reads the shell (the files sw.js precaches, and sw.js itself) and
names the worker's cache after a hash of their bytes: a deploy that changes any shell
file changes the served sw.js, so every installed phone gets the new version. The
same bytes give the same name in every process. Text files are served from that
start-time copy, compressed (brotli or gzip) when the browser asks; API answers are
never compressed here (secrets beside reflected input: BREACH).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

import brotli
from flask import Flask, abort, current_app, request, send_from_directory
from werkzeug.routing import PathConverter
from werkzeug.wrappers import Response

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

# sw.js as written says `const VERSION = 'dev';`; the served one carries the hash
VERSION_LINE = re.compile(r"^const VERSION = '[^'\n]*';$", re.M)
# the same pattern bench/pwa.py and the shell test read the precache list with
SHELL_LIST = re.compile(r"const SHELL = \[(.*?)\];", re.S)
TEXT = {".js", ".css", ".html", ".webmanifest", ".svg", ".json", ".txt"}
MIN_COMPRESS = 256  # below this the headers outweigh the saving


class AssetPathConverter(PathConverter):
    """Any path outside /api/, so an unknown API path is a 404, not a 405 from here."""

    regex = r"(?!api/)[^/].*?"


@dataclass(frozen=True)
class Asset:
    """One text file as served: its bytes, its type and its tag."""

    body: bytes
    mimetype: str
    tag: str

    def encode(self, coding: str) -> bytes | None:
        """This file in `coding`, made on first request; None where it saves nothing."""
        if len(self.body) < MIN_COMPRESS:
            return None
        made = _compress(coding, self.body)
        return made if len(made) < len(self.body) else None


COMPRESS = {
    "br": lambda body: brotli.compress(body, quality=11, mode=brotli.MODE_TEXT),
    "gzip": lambda body: gzip.compress(body, compresslevel=9, mtime=0),
}


@functools.lru_cache(maxsize=256)
def _compress(coding: str, body: bytes) -> bytes:
    # keyed by the bytes: every app in this process (tests make many) reuses the work
    return COMPRESS[coding](body)


def shell_list(worker_source: str) -> list[str]:
    """The URLs sw.js precaches, read from its SHELL array."""
    block = SHELL_LIST.search(worker_source)
    if not block:
        raise RuntimeError("sw.js has no `const SHELL = [...]` list")
    return re.findall(r"'([^']+)'", block.group(1))


def shell_version(root: Path, worker_source: str) -> str:
    """A short hash of every file the worker caches, and of the worker itself."""
    digest = hashlib.sha256()
    for url in ["/sw.js", *shell_list(worker_source)]:
        path = root / ("index.html" if url == "/" else url.lstrip("/"))
        if not path.is_file():  # the worker's install would fail on every phone
            raise RuntimeError(f"sw.js precaches {url}, which is not in {root}")
        body = worker_source.encode() if url == "/sw.js" else path.read_bytes()
        digest.update(f"{url}\0{len(body)}\0".encode())
        digest.update(body)
    return digest.hexdigest()[:12]


def load(root: Path) -> tuple[str, dict[str, Asset]]:
    """Read the PWA's text files once; the served sw.js names its cache by their hash."""
    worker_source = (root / "sw.js").read_text()
    if len(VERSION_LINE.findall(worker_source)) != 1:
        raise RuntimeError("sw.js needs one line `const VERSION = '...';`")
    version = shell_version(root, worker_source)
    assets = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in TEXT:
            name = path.relative_to(root).as_posix()
            body = path.read_bytes()
            if name == "sw.js":
                body = VERSION_LINE.sub(f"const VERSION = '{version}';", worker_source).encode()
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            assets[name] = Asset(body, mimetype, hashlib.sha256(body).hexdigest()[:20])
    return version, assets


def choose_encoding(asset: Asset) -> str | None:
    """The best encoding this request accepts (brotli first), if it saves bytes."""
    accepted = request.accept_encodings
    for coding in sorted(COMPRESS, key=lambda c: -accepted.quality(c)):
        if accepted.quality(coding) > 0 and asset.encode(coding) is not None:
            return coding
    return None


def serve_text(asset: Asset) -> Response:
    coding = choose_encoding(asset)
    body = asset.body if coding is None else asset.encode(coding)
    response = Response(body, mimetype=asset.mimetype)
    if coding:
        response.headers["Content-Encoding"] = coding
    response.vary.add("Accept-Encoding")
    # each representation its own strong tag, so a cache never mixes them up
    response.set_etag(asset.tag if coding is None else f"{asset.tag}-{coding}")
    # revalidated on every use, as before: the worker and the shell above all, or an
    # update never arrives
    response.cache_control.no_cache = True
    return response.make_conditional(request)


def index():
    return asset("index.html")


def asset(filename: str):
    state = current_app.extensions["pwa_static"]
    text = state["assets"].get(filename)
    if text is not None:
        return serve_text(text)
    if Path(filename).suffix in TEXT:
        abort(404)  # a text file not read at start is not one of ours
    return send_from_directory(state["root"], filename, max_age=0)


def init_app(app: Flask) -> None:
    root = Path(app.config.get("PWA_DIR") or PWA_DIR)
    version, assets = load(root)
    app.extensions["pwa_static"] = {"root": root, "version": version, "assets": assets}
    app.add_url_rule("/", "pwa_index", index, methods=["GET"])
    app.url_map.converters["asset"] = AssetPathConverter
    app.add_url_rule("/<asset:filename>", "pwa_asset", asset, methods=["GET"])
