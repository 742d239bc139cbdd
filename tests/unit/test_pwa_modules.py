"""The PWA's module graph, read from the source the way the browser reads it: no build
step stands between pwa/ and a phone, so a wrong import is a blank screen there.

Every static `import … from '…'` / `export … from '…'`, side-effect `import '…'` and
dynamic `import('…')` of every .js under pwa/ (and any `importScripts` in sw.js) is an
edge. A dynamic import counts like a static one: the router loads screens lazily, but a
screen that imports the router back is still a cycle, and in a cycle one module runs
before what it imports is initialised.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PWA = Path(__file__).resolve().parents[2] / "pwa"

# `//` starts a comment at a line's start or after a space, never inside 'https://…'
LINE_COMMENT = re.compile(r"(^|\s)//[^\n]*")
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
STATIC = re.compile(r"^\s*(?:import|export)\b[^'\";]*?\bfrom\s*['\"]([^'\"]+)['\"]", re.M)
SIDE_EFFECT = re.compile(r"^\s*import\s*['\"]([^'\"]+)['\"]", re.M)
DYNAMIC = re.compile(r"\bimport\(\s*['\"]([^'\"]+)['\"]\s*\)")
IMPORT_SCRIPTS = re.compile(r"\bimportScripts\(([^)]*)\)")

# what reads or writes the device's data, or talks to the server
DATA_MODULES = {"js/db.js", "js/outbox.js", "js/sync.js", "js/api.js"}


def specifiers(path: Path) -> list[str]:
    """Every module `path` imports, as written."""
    source = LINE_COMMENT.sub(r"\1", BLOCK_COMMENT.sub("", path.read_text()))
    found = STATIC.findall(source) + SIDE_EFFECT.findall(source) + DYNAMIC.findall(source)
    for args in IMPORT_SCRIPTS.findall(source):
        found += re.findall(r"['\"]([^'\"]+)['\"]", args)
    return found


def resolve(path: Path, spec: str) -> str:
    """A specifier as a path under pwa/; '/x' is the site root, which serves pwa/."""
    if spec.startswith("/"):
        target = PWA / spec.lstrip("/")
    elif spec.startswith(("./", "../")):
        target = path.parent / spec
    else:  # a bare name needs a bundler or an import map; the browser has neither here
        return f"<bare specifier {spec!r}>"
    return target.resolve().relative_to(PWA.resolve()).as_posix()


def module_graph() -> dict[str, set[str]]:
    return {
        p.relative_to(PWA).as_posix(): {resolve(p, s) for s in specifiers(p)}
        for p in sorted(PWA.rglob("*.js"))
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, …, a], or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if cycle := visit(nxt):
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start):
            return cycle
    return None


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return module_graph()


def test_the_reader_sees_imports_however_they_are_written(tmp_path):
    """The parser itself: multi-line, re-exported, side-effect and dynamic imports, and
    not an import named in a comment or a URL in a string."""
    js = tmp_path / "a.js"
    js.write_text(
        "import {\n  a,\n  b,\n} from './b.js';\n"
        'export { c } from "../c.js";\n'
        "import './d.js';\n"
        "const e = () => import('./e.js');\n"
        "// not this: import('./comment.js')\n"
        "/* nor import x from './block.js' */\n"
        "const url = 'https://example.org/import.js'; // import('./tail.js')\n"
    )
    assert specifiers(js) == ["./b.js", "../c.js", "./d.js", "./e.js"]


def test_every_import_names_a_file_the_server_has(graph):
    """A module that is not there is a 404 in the browser, and every screen that imports
    it, through however many modules, fails to open."""
    missing = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if not (PWA / target).is_file()
    }
    assert not missing, "\n".join(sorted(missing))


def test_no_module_imports_itself_back(graph):
    """No import cycle, lazy ones included: in a cycle one module runs before what it
    imports is initialised, and the screen breaks depending on which loaded first."""
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_ui_helpers_know_no_data_layer(graph):
    """ui.js draws; what it shows about a record's sync state comes from constants, not
    from the outbox, so the DOM helpers load without the device's database or the API."""
    knows = sorted(reachable(graph, "js/ui.js") & DATA_MODULES)
    assert not knows, f"ui.js loads {', '.join(knows)}"


def test_only_the_boot_module_imports_the_router(graph):
    """Screens (patient and therapist) navigate through js/nav.js; the router, which
    loads every screen, is started by app.js alone."""
    importers = sorted(m for m, targets in graph.items() if "js/router.js" in targets)
    assert importers == ["app.js"], f"js/router.js is imported by {', '.join(importers)}"
    assert "js/nav.js" in graph
    assert not reachable(graph, "js/nav.js") & {m for m in graph if m.startswith("js/views/")}


def test_therapist_code_imports_no_patient_screen(graph):
    """The therapist's modules take what they share with the patient's screens from
    shared modules, never from a patient screen (loading one would run its code)."""
    reaches = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith("js/therapist/")
        for target in targets
        if target.startswith("js/views/")
    }
    assert not reaches, "\n".join(sorted(reaches))
