"""Every word the server says has its translation in every language it speaks.

The words are found as translators find them, with Babel's own extractor over server/
(babel.cfg, `make translations`); each must have a checked, non-empty translation in
every catalogue, with the same placeholders, and the committed `.mo` (what the server
reads: deploys compile nothing) must say exactly what its `.po` says. The English that
marshmallow and werkzeug put into error answers is translated by the error format
(server/i18n.py): it must be the English those libraries really say.
"""

from __future__ import annotations

import inspect
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import default_exceptions

from server import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}  # `make translations` passes -k _l
TRANSLATED = [language for language in i18n.SUPPORTED if language != i18n.DEFAULT]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def server_words(root: Path = ROOT) -> set[str]:
    """Every msgid under root/server, as `pybabel extract -F babel.cfg -k _l` finds it."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        found.update([message] if isinstance(message, str) else message)
    return found


def catalogue(language: str, suffix: str = "po"):
    path = i18n.TRANSLATIONS / language / "LC_MESSAGES" / f"messages.{suffix}"
    with open(path, "rb") as source:
        return (read_po if suffix == "po" else read_mo)(source)


def translations(cat) -> dict[str, str]:
    """msgid → msgstr of the entries a server would use (checked, not fuzzy)."""
    return {m.id: m.string for m in cat if m.id and not m.fuzzy}


def missing_words(words: set[str], cat) -> list[str]:
    known = translations(cat)
    return sorted(word for word in words if not known.get(word, "").strip())


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.fixture(scope="module")
def words() -> set[str]:
    return server_words()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_word_the_server_says_is_translated(words, language):
    assert len(words) > 200  # the extractor found the server's words at all
    missing = missing_words(words, catalogue(language))
    assert not missing, f"untranslated in {language} (run `make translations`): {missing}"


def test_a_new_word_without_its_translation_fails(tmp_path, words):
    """The check above catches the word a developer adds and forgets to translate."""
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "new.py").write_text(
        'from flask_babel import gettext as _\n\nWORDS = _("A sentence nobody translated yet.")\n'
    )
    found = server_words(tmp_path)
    assert found == {"A sentence nobody translated yet."}
    assert missing_words(words | found, catalogue("es")) == ["A sentence nobody translated yet."]


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_keeps_every_placeholder(language):
    wrong = {
        m.id: m.string
        for m in catalogue(language)
        if m.id and m.string and placeholders(m.id) != placeholders(m.string)
    }
    assert not wrong


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_mo_says_what_its_po_says(language):
    po = catalogue(language)
    compiled = io.BytesIO()
    write_mo(compiled, po)  # what `pybabel compile` makes of the .po now
    compiled.seek(0)
    committed = catalogue(language, "mo")
    assert translations(committed) == translations(read_mo(compiled)) == translations(po)
    assert committed.charset == "utf-8"


def test_no_catalogue_keeps_words_the_server_no_longer_says(words):
    for language in TRANSLATED:
        stale = {m.id for m in catalogue(language) if m.id and not m.fuzzy} - words
        assert not stale, f"{language}: {sorted(stale)} (run `make translations`)"


# -- what the libraries say ---------------------------------------------------------------


def marshmallow_messages() -> set[str]:
    """Every message marshmallow's fields and validators can put into a load error, with
    what a class fills in itself (a field's type name, a range's words) filled in."""
    found = set(Schema._default_error_messages.values())
    for _name, cls in inspect.getmembers(fields, inspect.isclass):
        if not issubclass(cls, fields.Field):
            continue
        for key, message in cls.default_error_messages.items():
            if key == "format":  # said when dumping, never in an answer to input
                continue
            found.add(
                message.replace("{obj_type}", getattr(cls, "OBJ_TYPE", "{obj_type}")).replace(
                    "{awareness}", getattr(cls, "AWARENESS", "{awareness}")
                )
            )
    for _name, cls in inspect.getmembers(validate, inspect.isclass):
        if cls is validate.Range:  # its messages are made of its words below
            continue
        for attr in (
            "default_message",
            "message_min",
            "message_max",
            "message_all",
            "message_equal",
        ):
            if isinstance(message := getattr(cls, attr, None), str):
                found.add(message)
    for low in ("greater than or equal to", "greater than"):
        found.add(validate.Range.message_min.format(min_op=low))
        for high in ("less than or equal to", "less than"):
            found.add(validate.Range.message_all.format(min_op=low, max_op=high))
    for high in ("less than or equal to", "less than"):
        found.add(validate.Range.message_max.format(max_op=high))
    return {m for m in found if "{obj_type}" not in m and "{awareness}" not in m}


def test_the_error_format_knows_every_message_marshmallow_says():
    assert marshmallow_messages() - set(i18n.LIBRARY_MESSAGES) == set()


def test_the_error_format_knows_what_werkzeug_says_for_our_codes():
    codes = (400, 401, 403, 404, 405, 409, 413, 415, 422, 428, 429, 500)
    said = {default_exceptions[code].description for code in codes}
    assert said - set(i18n.LIBRARY_MESSAGES) == set()
