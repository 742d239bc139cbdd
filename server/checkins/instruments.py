"""The questionnaires, defined in code.

PHQ-9: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression
severity measure. J Gen Intern Med. 2001;16(9):606-613. GAD-7: Spitzer RL, Kroenke K,
Williams JBW, Löwe B. A brief measure for assessing generalized anxiety disorder.
Arch Intern Med. 2006;166(10):1092-1097. Both developed by Drs. Spitzer, Williams,
Kroenke and colleagues with an educational grant from Pfizer Inc.; no permission is
required to reproduce, translate, display or distribute them. Item wording below is
the published English wording.

In Spanish the PHQ-9 and GAD-7 are only ever their published, validated translations
(SPANISH below), never ours: a questionnaire reworded is no longer the validated
measure. The daily check-in is our own, so its words go through the catalogues
(marked with N_ here, translated in `for_language`). Ids, values and scoring are the
same in every language: a score never depends on the language it was answered in.
"""

from __future__ import annotations

import copy
from functools import cache

from server.i18n import DEFAULT, N_, gettext_in

FREQUENCY = [
    {"value": 0, "label": "Not at all"},
    {"value": 1, "label": "Several days"},
    {"value": 2, "label": "More than half the days"},
    {"value": 3, "label": "Nearly every day"},
]
DIFFICULTY = [
    {"value": 0, "label": "Not difficult at all"},
    {"value": 1, "label": "Somewhat difficult"},
    {"value": 2, "label": "Very difficult"},
    {"value": 3, "label": "Extremely difficult"},
]
DIFFICULTY_TEXT = (
    "If you checked off any problems, how difficult have these problems made it for you "
    "to do your work, take care of things at home, or get along with other people?"
)

PHQ9_ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]
GAD7_ITEMS = [
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
]

SAFETY_QUESTION = N_(
    "Have you had thoughts that you would be better off dead, or of hurting yourself?"
)

# The Spanish (US) versions of the PHQ-9 and GAD-7 from the Pfizer PHQ screeners
# (phqscreeners.com, "Spanish for USA"), word for word. Not translated by us, and never
# through the catalogues.
SPANISH = {
    "frequency": {
        "phq9": ["Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días"],
        "gad7": ["Nunca", "Varios días", "Más de la mitad de los días", "Casi todos los días"],
    },
    "difficulty": [
        "No ha sido difícil",
        "Un poco difícil",
        "Muy difícil",
        "Extremadamente difícil",
    ],
    "difficulty_text": (
        "Si marcó cualquiera de los problemas, ¿qué tanta dificultad le han dado estos "
        "problemas para hacer su trabajo, encargarse de las tareas del hogar, o llevarse "
        "bien con otras personas?"
    ),
    "time_frame": {
        "phq9": "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido "
        "a los siguientes problemas?",
        "gad7": "Durante las últimas 2 semanas, ¿con qué frecuencia le han molestado los "
        "siguientes problemas?",
    },
    "items": {
        "phq9": [
            "Poco interés o placer en hacer cosas",
            "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
            "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado",
            "Se ha sentido cansado(a) o con poca energía",
            "Sin apetito o ha comido en exceso",
            "Se ha sentido mal con usted mismo(a) – o que es un fracaso o que ha quedado mal "
            "con usted mismo(a) o con su familia",
            "Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el "
            "periódico o ver la televisión",
            "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo "
            "contrario – muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo "
            "normal",
            "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
        ],
        "gad7": [
            "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
            "No ha sido capaz de parar o controlar su preocupación",
            "Se ha preocupado demasiado por motivos diferentes",
            "Ha tenido dificultad para relajarse",
            "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
            "Se ha molestado o irritado fácilmente",
            "Ha tenido miedo de que algo terrible fuera a pasar",
        ],
    },
}
# the published translations there are, by language (English is the source)
PUBLISHED = {"es": SPANISH}


def _options(labels: list[str]) -> list[dict]:
    return [{"value": value, "label": label} for value, label in enumerate(labels)]


def _frequency_items(prefix: str, texts: list[str], options: list[dict]) -> list[dict]:
    return [
        {
            "id": f"{prefix}_{n}",
            "text": text,
            "type": "choice",
            "options": options,
            "scored": True,
            "required": True,
        }
        for n, text in enumerate(texts, start=1)
    ]


def _screener(
    instrument: str, items: list[str], frequency: list[dict], difficulty: list[dict], words: dict
) -> dict:
    """The PHQ-9 or GAD-7 in one language: its items, then the difficulty question."""
    return {
        "id": instrument,
        "title": "PHQ-9" if instrument == "phq9" else "GAD-7",
        "time_frame": words["time_frame"],
        "items": _frequency_items(instrument, items, frequency)
        + [
            {
                "id": f"{instrument}_difficulty",
                "text": words["difficulty_text"],
                "type": "choice",
                "options": difficulty,
                "scored": False,
                "required": False,
            }
        ],
        "source": words["source"],
    }


def _scale(item_id: str, text: str, low: str, high: str) -> dict:
    return {
        "id": item_id,
        "text": text,
        "type": "scale",
        "min": 0,
        "max": 10,
        "labels": {"0": low, "10": high},
        "scored": False,
        "required": True,
    }


_ENGLISH_WORDS = {"difficulty_text": DIFFICULTY_TEXT}
SOURCES = {
    "phq9": "Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-613",
    "gad7": "Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006;166:1092-1097",
}
INSTRUMENTS = {
    "daily": {
        "id": "daily",
        "title": N_("Daily check-in"),
        "time_frame": N_("Today"),
        "items": [
            _scale("mood", N_("How is your mood today?"), N_("Very low"), N_("Very good")),
            _scale(
                "anxiety", N_("How anxious do you feel today?"), N_("Not at all"), N_("Extremely")
            ),
            _scale(
                "sleep_quality",
                N_("How well did you sleep last night?"),
                N_("Very badly"),
                N_("Very well"),
            ),
            {
                "id": "sleep_hours",
                "text": N_("About how many hours did you sleep?"),
                "type": "number",
                "min": 0,
                "max": 24,
                "scored": False,
                "required": True,
            },
            _scale(
                "rumination",
                N_("How much were you caught in repetitive thoughts today?"),
                N_("Not at all"),
                N_("All day"),
            ),
            {
                "id": "note",
                "text": N_("Anything you want to note?"),
                "type": "text",
                "max_length": 2000,
                "scored": False,
                "required": False,
            },
            {
                "id": "safety",
                "text": SAFETY_QUESTION,
                "type": "yes_no",
                "scored": False,
                "required": True,
                "risk": True,
            },
        ],
    },
    "phq9": _screener(
        "phq9",
        PHQ9_ITEMS,
        FREQUENCY,
        DIFFICULTY,
        {
            **_ENGLISH_WORDS,
            "time_frame": "Over the last 2 weeks, how often have you been bothered by any of "
            "the following problems?",
            "source": SOURCES["phq9"],
        },
    ),
    "gad7": _screener(
        "gad7",
        GAD7_ITEMS,
        FREQUENCY,
        DIFFICULTY,
        {
            **_ENGLISH_WORDS,
            "time_frame": "Over the last 2 weeks, how often have you been bothered by the "
            "following problems?",
            "source": SOURCES["gad7"],
        },
    ),
}
# PHQ-9 item 9 is flagged in the instrument's own definition, too
INSTRUMENTS["phq9"]["items"][8]["risk"] = True


def _published(instrument: str, words: dict) -> dict:
    """A screener in its published translation, with the English one's ids and flags."""
    english = INSTRUMENTS[instrument]
    translated = _screener(
        instrument,
        words["items"][instrument],
        _options(words["frequency"][instrument]),
        _options(words["difficulty"]),
        {**words, "time_frame": words["time_frame"][instrument], "source": SOURCES[instrument]},
    )
    for mine, theirs in zip(translated["items"], english["items"], strict=True):
        mine.update({k: v for k, v in theirs.items() if k not in ("text", "options")})
    return translated


def _translated_daily(language: str) -> dict:
    """Our own check-in through the catalogue of this language."""
    daily = copy.deepcopy(INSTRUMENTS["daily"])
    for key in ("title", "time_frame"):
        daily[key] = gettext_in(language, daily[key])
    for item in daily["items"]:
        item["text"] = gettext_in(language, item["text"])
        if "labels" in item:
            item["labels"] = {k: gettext_in(language, v) for k, v in item["labels"].items()}
    return daily


def _localized(instrument: str, language: str) -> dict:
    if instrument == "daily":
        return _translated_daily(language)
    published = PUBLISHED.get(language)
    # a language with no validated translation gets the original, never one of ours
    return _published(instrument, published) if published else INSTRUMENTS[instrument]


@cache
def for_language(language: str) -> tuple[dict, ...]:
    """Every questionnaire as a person reading this language sees it (built once per
    language: the words never change while the process runs)."""
    if language == DEFAULT:
        return tuple(INSTRUMENTS.values())
    return tuple(_localized(instrument, language) for instrument in INSTRUMENTS)
