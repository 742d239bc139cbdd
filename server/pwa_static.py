"""Serve the buildless PWA from `pwa/` at the site root."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory
from werkzeug.routing import PathConverter

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"


class AssetPathConverter(PathConverter):
    """Any path outside /api/, so an unknown API path is a 404, not a 405 from here."""

    regex = r"(?!api/)[^/].*?"


def index():
    return asset("index.html")


def asset(filename: str):
    response = send_from_directory(PWA_DIR, filename, max_age=0)
    if filename in {"sw.js", "index.html", "manifest.webmanifest"}:
        # the worker and the shell must be revalidated, or an update never arrives
        response.headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/", "pwa_index", index, methods=["GET"])
    app.url_map.converters["asset"] = AssetPathConverter
    app.add_url_rule("/<asset:filename>", "pwa_asset", asset, methods=["GET"])
