"""Languages: which one a request, a mail or a push speaks, and the words of the error
format in it.

Catalogues are gettext's, compiled by Babel: `server/translations/<lang>/LC_MESSAGES/
messages.po`, with its `.mo` committed beside it (a deploy runs no build step). English
is the source language and needs none. A language is added by adding its catalogue and
its code to SUPPORTED (`make translations` extracts, updates and compiles them).

Whose language:
- a request: the signed-in person's own setting (`users.locale`, "es-MX" → "es"), else
  the best of the browser's Accept-Language, else English;
- a mail or a push: always the recipient's (`speaking(user.locale)`, `gettext_in`),
  never that of whoever's request made it go out.

The PHQ-9 and GAD-7 are never translated here: only their published translations are
used (server/checkins/instruments.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request
from flask_babel import force_locale, get_locale, gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user

from server.extensions import babel

DEFAULT = "en"
# every language Between speaks: one catalogue each (English is the source)
SUPPORTED = ("en", "es")
TRANSLATIONS = Path(__file__).resolve().with_name("translations")


def N_(text: str) -> str:  # noqa: N802 (gettext's name for it)
    """Mark words for the catalogue without translating them here: they are translated
    where they are shown (instrument items, push words, the error format's table)."""
    return text


def language_of(tag: str | None) -> str | None:
    """The supported language a BCP 47 tag or POSIX locale names ("es-MX", "es_ES.UTF-8"
    → "es"); None when it names none we speak."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].split(".")[0].lower()
    return primary if primary in SUPPORTED else None


def _accepted() -> str | None:
    """The first language of the browser's list, by its quality order, that we speak. Not
    werkzeug's best_match: it prefers an exact "es" at q=0.5 over "en-GB" at q=1."""
    for tag, _quality in request.accept_languages:
        if tag == "*":
            return DEFAULT
        if language := language_of(tag):
            return language
    return None


def select_locale() -> str:
    """The language of this request's words (Flask-Babel asks once per request)."""
    if not has_request_context():
        return DEFAULT  # the worker and the CLI name the recipient's language themselves
    # a stand-in user after a database failure (server/errors.py) has no locale
    if current_user.is_authenticated:
        if mine := language_of(getattr(current_user, "locale", None)):
            return mine
    return _accepted() or DEFAULT


def language() -> str:
    """The language this request (or a `speaking` block) speaks."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


@contextmanager
def speaking(tag: str | None) -> Iterator[str]:
    """Words made inside are in this person's language (their `users.locale`): a mail
    or a push speaks its recipient's, whatever request or worker sends it."""
    chosen = language_of(tag) or DEFAULT
    with force_locale(chosen):
        yield chosen


@cache
def _catalogue(language: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [language])


def gettext_in(language: str, text: str) -> str:
    """Words in a given language, with no request or app needed: for what is built once
    per language (the daily check-in's words, a push's), the catalogue read once."""
    return _catalogue(language).gettext(text)


def _content_language(response):
    """Name the language of an API answer whose words were chosen by language, and that
    the same URL answers in another for another person or browser."""
    chosen = getattr(g.get("_flask_babel"), "babel_locale", None)
    if chosen is not None and request.path.startswith("/api/"):
        response.headers["Content-Language"] = chosen.language
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def init_app(app: Flask) -> None:
    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_locale)
    app.after_request(_content_language)


# -- the error format's words ---------------------------------------------------------------
# Services raise their own words through gettext. What marshmallow, webargs and werkzeug
# say is English made elsewhere: it is translated here, where every error answer passes,
# so every schema and route gains it. Each entry is the message as it reaches us, with
# `{name}` where marshmallow fills in a value.

LIBRARY_MESSAGES = (
    # marshmallow: fields
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Invalid type."),
    N_("Invalid input type."),
    N_("Unknown field."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid UUID."),
    N_("Not a valid URL."),
    N_("Not a valid email address."),
    N_("Not a valid datetime."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("Not a valid aware datetime."),
    N_("Not a valid naive datetime."),
    N_("Not a valid period of time."),
    N_("Not a valid IP address."),
    N_("Not a valid IP interface."),
    N_("Not a valid IPv4 address."),
    N_("Not a valid IPv4 interface."),
    N_("Not a valid IPv6 address."),
    N_("Not a valid IPv6 interface."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    # marshmallow: validators
    N_("Invalid input."),
    N_("String does not match expected pattern."),
    N_("Must be one of: {choices}."),
    N_("Must be equal to {other}."),
    N_("One or more of the choices you made was in: {values}."),
    N_("One or more of the choices you made was not in: {choices}."),
    N_("Shorter than minimum length {min}."),
    N_("Longer than maximum length {max}."),
    N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."),
    N_("Must be less than {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min} and less than {max}."),
    N_("Must be greater than {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than {max}."),
    # webargs
    N_("Invalid JSON body."),
    # werkzeug: what its own errors say (a route that does not exist, a wrong method...)
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_(
        "The server could not verify that you are authorized to access the URL requested. "
        "You either supplied the wrong credentials (e.g. a bad password), or your browser "
        "doesn't understand how to supply the credentials required."
    ),
    N_(
        "You don't have the permission to access the requested resource. It is either "
        "read-protected or not readable by the server."
    ),
    N_(
        "The requested URL was not found on the server. If you entered the URL manually "
        "please check your spelling and try again."
    ),
    N_("The method is not allowed for the requested URL."),
    N_(
        "A conflict happened while processing the request. The resource might have been "
        "modified while the request was being processed."
    ),
    N_("The data value transmitted exceeds the capacity limit."),
    N_("The server does not support the media type transmitted in the request."),
    N_("The request was well-formed but was unable to be followed due to semantic errors."),
    N_(
        'This request is required to be conditional; try using "If-Match" or "If-Unmodified-Since".'
    ),
    N_("This user has exceeded an allotted request count. Try again later."),
    N_(
        "The server encountered an internal error and was unable to complete your request. "
        "Either the server is overloaded or there is an error in the application."
    ),
)
_FIELD = re.compile(r"\\{(\w+)\\}")


@cache
def _patterns() -> tuple[dict[str, str], tuple[tuple[re.Pattern, str], ...]]:
    """The plain messages by their words, and a pattern for each that has values in it."""
    plain, filled = {}, []
    for template in LIBRARY_MESSAGES:
        if "{" not in template:
            plain[template] = template
            continue
        pattern = _FIELD.sub(lambda m: f"(?P<{m[1]}>.+?)", re.escape(template))
        filled.append((re.compile(pattern, re.DOTALL), template))
    # the longest first: "Must be greater than or equal to {min}." also matches a range's
    # "… to 1 and less than or equal to 168." (with "1 and less than …" as its {min})
    filled.sort(key=lambda pair: len(pair[1]), reverse=True)
    return plain, tuple(filled)


def _library_message(text: str) -> str:
    """A library's English message in this request's language (unchanged when it is
    not one of theirs: our own words arrive already translated)."""
    plain, filled = _patterns()
    if text in plain:
        return gettext(text)
    for pattern, template in filled:
        if match := pattern.fullmatch(text):
            return gettext(template).format(**match.groupdict())
    return text


def translated(value):
    """Every message in an error structure ({"json": {"field": ["…"]}}, lists, a lone
    string) in this request's language; keys and shape unchanged."""
    if isinstance(value, LazyString):
        return str(value)
    if isinstance(value, str):
        return value if language() == DEFAULT else _library_message(value)
    if isinstance(value, dict):
        return {key: translated(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [translated(item) for item in value]
    return value
