"""Features do not reach into each other: the import graph of server/, read from the source.

A module of one feature may use another feature's models, schemas and read-only queries
(`read`), and the platform every feature stands on; never another feature's service,
routes or worker. A feature reacts to another through the signals of server/events.py.
And the features that may import each other do not do it in a circle, so each can be
understood (and changed) after the ones it uses. DESIGN.md, "Decisions added since the
first build".
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"

FEATURES = (
    "journal",
    "parts",
    "plans",
    "checkins",
    "sessions",
    "reminders",
    "care",
    "brief",
    "privacy",
    "alerts",
    "assignments",
)
# what every feature stands on: who sees what, signals, errors, the database, the
# session's user, the audit trail (every read is recorded), the sync protocol's parts
PLATFORM = (
    "server.access",
    "server.events",
    "server.errors",
    "server.extensions",
    "server.db",
    "server.crypto",
    "server.schemas",
    "server.web",
    "server.pagination",
    "server.localtime",
    "server.mail",
    "server.i18n",  # the language words are in: the request's, or a recipient's
    "server.auth.models",
    "server.auth.session",
    "server.auth.passwords",
    "server.audit.service",
    "server.audit.models",  # the trail's own rows: a patient's export includes theirs
    "server.sync.registry",
    "server.sync.clock",
    "server.sync.models",
)
# what one feature may use of another
SHARED_KINDS = ("models", "schemas", "read")
# the composition root: it wires the features together, so it may import any of them
EXEMPT = ("server", "server.cli", "server.demo")


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (SERVER.parent / relative.with_suffix(".py")).exists() or (
        SERVER.parent / relative / "__init__.py"
    ).exists()


def imports_of(path: Path) -> set[str]:
    """Every server module this file imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                # `from server.reminders import service` imports a module; `from
                # server.reminders.service import wake` imports a name of one
                candidate = f"{base}.{alias.name}"
                found.add(candidate if is_module(candidate) else base)
    return {m for m in found if m == "server" or m.startswith("server.")}


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FEATURES else None


def within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def server_modules():
    for path in sorted(SERVER.rglob("*.py")):
        if "migrations" not in path.relative_to(SERVER).parts:
            yield path


def graph():
    """(offending imports as lines, allowed feature → feature edges)."""
    offences, edges = [], set()
    for path in server_modules():
        name = module_name(path)
        mine = feature_of(name)
        if mine is None or name in EXEMPT:
            continue
        for target in sorted(imports_of(path)):
            theirs = feature_of(target)
            if theirs == mine or within(target, PLATFORM):
                continue
            if (
                theirs is not None
                and target.rpartition(".")[2] in SHARED_KINDS
                and (target.count(".") == 2)
            ):
                edges.add((mine, theirs))
                continue
            offences.append(f"{path.relative_to(SERVER.parent)} imports {target}")
    return offences, edges


def cycles(edges) -> list[list[str]]:
    """Each cycle among the features, once, as the path that closes it."""
    following: dict[str, set[str]] = {}
    for a, b in edges:
        following.setdefault(a, set()).add(b)
    found, seen = [], set()

    def walk(node, path):
        for nxt in sorted(following.get(node, ())):
            if nxt in path:
                loop = path[path.index(nxt) :]
                key = frozenset(loop)
                if key not in seen:
                    seen.add(key)
                    found.append([*loop, nxt])
            else:
                walk(nxt, [*path, nxt])

    for start in sorted(following):
        walk(start, [start])
    return found


def test_a_feature_uses_another_only_through_its_models_schemas_and_reads():
    """Another feature's service, routes or worker is off limits: react through
    server/events.py, read through the other feature's `read` module."""
    offences, _ = graph()
    for line in offences:
        print(line)
    assert offences == [], "\n" + "\n".join(offences)


def test_features_do_not_import_each_other_in_a_circle():
    """Counting only the imports allowed above, no feature depends on itself through others."""
    _, edges = graph()
    loops = [" -> ".join(loop) for loop in cycles(edges)]
    for line in loops:
        print(line)
    assert loops == [], "\n" + "\n".join(loops)


def test_the_graph_sees_every_kind_of_import(tmp_path, monkeypatch):
    """The reader finds imports in any form, so an offence cannot hide in a function body
    or behind a relative import."""
    package = tmp_path / "server" / "plans"
    (tmp_path / "server" / "reminders").mkdir(parents=True)
    package.mkdir()
    for path in (
        tmp_path / "server" / "__init__.py",
        tmp_path / "server" / "reminders" / "__init__.py",
        tmp_path / "server" / "reminders" / "service.py",
        tmp_path / "server" / "reminders" / "models.py",
        package / "__init__.py",
        package / "models.py",
    ):
        path.write_text("")
    (package / "service.py").write_text(
        "from server.reminders import service as a\n"
        "import server.reminders.service\n"
        "from server.reminders.service import wake\n"
        "from server.reminders.models import X\n"
        "from . import models\n"
        "from .models import Plan\n"
        "def later():\n"
        "    from ..reminders import service\n"
    )
    monkeypatch.setattr(f"{__name__}.SERVER", tmp_path / "server")
    assert imports_of(package / "service.py") == {
        "server.reminders.service",
        "server.reminders.models",
        "server.plans.models",
    }
    offences, edges = graph()
    assert offences == ["server/plans/service.py imports server.reminders.service"]
    assert edges == {("plans", "reminders")}
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c", "a"]]
