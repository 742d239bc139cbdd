"""The PWA's catalogues hold every string the app asks for, in every language.

A key used in the code (`t('x.y')`, `tNodes('x.y')`, `data-i18n="x.y"`) and missing from a
catalogue would show the person English (or the bare key): this fails first. Read
statically from the sources, so it runs without a browser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

PWA = Path(__file__).resolve().parents[2] / "pwa"
CATALOGUES = PWA / "i18n"
LANGUAGES = sorted(p.stem for p in CATALOGUES.glob("*.json"))
# t('key') and tNodes('key') (words with an element inside them), spread (...t) or not,
# but not a method of something else (x.t)
CALL = re.compile(r"(?<![\w$])(?<!(?<!\.)\.)t(?:Nodes)?\(\s*(['\"`])((?:(?!\1).)*)\1", re.S)
MARKUP = re.compile(r"data-i18n=\"([^\"]+)\"|data-i18n-attr=\"([^\"]+)\"")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLURAL_FORMS = {"zero", "one", "two", "few", "many", "other"}


def _sources():
    # i18n.js defines t() and shows it in examples: every other file is what asks
    code = [p for p in PWA.rglob("*.js") if p != PWA / "js" / "i18n.js"]
    return [*code, PWA / "index.html"]


def used_keys() -> dict[str, list[str]]:
    """Every key the code asks for, with where it is asked."""
    keys: dict[str, list[str]] = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(PWA).as_posix() if PWA in path.parents else path.name
        for quote, key in ((m.group(1), m.group(2)) for m in CALL.finditer(text)):
            assert quote != "`", f"{where}: t(`{key}`) builds its key; write it out literally"
            keys.setdefault(key, []).append(where)
        for text_key, attrs in MARKUP.findall(text):
            names = [text_key] if text_key else [pair.split(":")[1] for pair in attrs.split(";")]
            for key in names:
                keys.setdefault(key, []).append(where)
    return keys


def catalogue(lang: str) -> dict:
    return json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))


def _forms(entry) -> list[str]:
    return list(entry.values()) if isinstance(entry, dict) else [entry]


def test_there_is_english_and_spanish():
    assert {"en", "es"} <= set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_app_uses_is_in_the_catalogue(lang):
    words = catalogue(lang)
    missing = {key: where for key, where in used_keys().items() if key not in words}
    assert not missing, f"{lang}.json lacks: " + ", ".join(
        f"{key} ({where[0]})" for key, where in sorted(missing.items())
    )


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogue_has_the_same_keys_and_placeholders_as_english(lang):
    english, other = catalogue("en"), catalogue(lang)
    assert sorted(set(english) - set(other)) == [], f"{lang}.json lacks keys English has"
    assert sorted(set(other) - set(english)) == [], f"{lang}.json has keys English lacks"
    for key, entry in english.items():
        wanted = {p for form in _forms(entry) for p in PLACEHOLDER.findall(form)}
        for form in _forms(other[key]):
            assert form.strip(), f"{lang}.json: {key} is empty"
            # a plural's "one" may say "un" instead of {count}; every other form names them all
            got = set(PLACEHOLDER.findall(form))
            assert got <= wanted, (
                f"{lang}.json: {key} has placeholders English lacks: {got - wanted}"
            )
        if not isinstance(other[key], dict):
            assert set(PLACEHOLDER.findall(other[key])) == wanted, (
                f"{lang}.json: {key} placeholders"
            )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plurals_have_other(lang):
    for key, entry in catalogue(lang).items():
        if isinstance(entry, dict):
            assert "other" in entry, f"{lang}.json: {key} has no 'other' form"
            assert set(entry) <= PLURAL_FORMS, f"{lang}.json: {key} has unknown plural forms"
        else:
            assert isinstance(entry, str), f"{lang}.json: {key} is neither words nor plural forms"


def test_no_key_is_left_unused():
    unused = sorted(set(catalogue("en")) - set(used_keys()))
    assert not unused, f"en.json holds keys nothing asks for: {unused}"


def test_the_check_finds_a_missing_key(tmp_path, monkeypatch):
    """The test above is not vacuous: a key asked for and absent is reported."""
    view = tmp_path / "view.js"
    view.write_text("h('p', {}, t('nowhere.at_all'));\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}._sources", lambda: [view])
    assert "nowhere.at_all" in used_keys()
    assert "nowhere.at_all" not in catalogue("es")


def test_the_reader_sees_every_way_a_key_is_asked_for():
    """Keys asked for with t() and tNodes(), spread or not, and no other object's t()."""
    source = "h('p', {}, t('a.b'), ...tNodes('c.d', { who }), x.t('not.a.key'), tNodes(\"e.f\"))"
    assert [m.group(2) for m in CALL.finditer(source)] == ["a.b", "c.d", "e.f"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_is_spoken_offline_and_offered(lang):
    """A catalogue file is a language the app speaks: i18n.js knows it by its own name, the
    service worker precaches it (Help now and the lock screen work offline in it), and
    Settings offers it (from i18n.js's list, so each language it knows)."""
    i18n = (PWA / "js" / "i18n.js").read_text(encoding="utf-8")
    spoken = re.search(r"export const LANGUAGES = \{([^}]*)\}", i18n)[1]
    assert re.search(rf"\b{lang}: '[^']+'", spoken), f"pwa/js/i18n.js LANGUAGES lacks {lang}"
    assert f"'/i18n/{lang}.json'" in (PWA / "sw.js").read_text(encoding="utf-8")
    settings = (PWA / "js" / "views" / "settings.js").read_text(encoding="utf-8")
    assert re.search(r"import \{[^}]*\bLANGUAGES\b[^}]*\} from '\.\./i18n\.js'", settings), (
        f"Settings lacks {lang}: it offers i18n.js's LANGUAGES"
    )
    assert "Object.entries(LANGUAGES)" in settings, f"Settings lacks {lang}"
