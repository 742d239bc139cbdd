"""A readable API reference, rendered on the server from the OpenAPI spec (no script)."""

from __future__ import annotations

from flask import Flask, render_template

from server.extensions import api

METHODS = ("get", "post", "put", "patch", "delete")


def docs_page():
    spec = api.spec.to_dict()
    operations = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "tag": (op.get("tags") or [""])[0],
                    "responses": sorted(op.get("responses", {})),
                    "body": _schema_name(op.get("requestBody")),
                }
            )
    return render_template("api_docs.html", spec=spec, operations=operations)


def _schema_name(body) -> str:
    if not body:
        return ""
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").rsplit("/", 1)[-1]


def init_app(app: Flask) -> None:
    app.add_url_rule("/api/v1/docs", "api_docs", docs_page, methods=["GET"])
