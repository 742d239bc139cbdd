"""The questionnaires, defined in code.

PHQ-9: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression
severity measure. J Gen Intern Med. 2001;16(9):606-613. GAD-7: Spitzer RL, Kroenke K,
Williams JBW, Löwe B. A brief measure for assessing generalized anxiety disorder.
Arch Intern Med. 2006;166(10):1092-1097. Both developed by Drs. Spitzer, Williams,
Kroenke and colleagues with an educational grant from Pfizer Inc.; no permission is
required to reproduce, translate, display or distribute them. Item wording below is
the published English wording.
"""

from __future__ import annotations

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

SAFETY_QUESTION = "Have you had thoughts that you would be better off dead, or of hurting yourself?"


def _frequency_items(prefix: str, texts: list[str]) -> list[dict]:
    return [
        {
            "id": f"{prefix}_{n}",
            "text": text,
            "type": "choice",
            "options": FREQUENCY,
            "scored": True,
            "required": True,
        }
        for n, text in enumerate(texts, start=1)
    ]


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


INSTRUMENTS = {
    "daily": {
        "id": "daily",
        "title": "Daily check-in",
        "time_frame": "Today",
        "items": [
            _scale("mood", "How is your mood today?", "Very low", "Very good"),
            _scale("anxiety", "How anxious do you feel today?", "Not at all", "Extremely"),
            _scale(
                "sleep_quality", "How well did you sleep last night?", "Very badly", "Very well"
            ),
            {
                "id": "sleep_hours",
                "text": "About how many hours did you sleep?",
                "type": "number",
                "min": 0,
                "max": 24,
                "scored": False,
                "required": True,
            },
            _scale(
                "rumination",
                "How much were you caught in repetitive thoughts today?",
                "Not at all",
                "All day",
            ),
            {
                "id": "note",
                "text": "Anything you want to note?",
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
    "phq9": {
        "id": "phq9",
        "title": "PHQ-9",
        "time_frame": "Over the last 2 weeks, how often have you been bothered by any of the "
        "following problems?",
        "items": _frequency_items("phq9", PHQ9_ITEMS)
        + [
            {
                "id": "phq9_difficulty",
                "text": DIFFICULTY_TEXT,
                "type": "choice",
                "options": DIFFICULTY,
                "scored": False,
                "required": False,
            }
        ],
        "source": "Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-613",
    },
    "gad7": {
        "id": "gad7",
        "title": "GAD-7",
        "time_frame": "Over the last 2 weeks, how often have you been bothered by the "
        "following problems?",
        "items": _frequency_items("gad7", GAD7_ITEMS)
        + [
            {
                "id": "gad7_difficulty",
                "text": DIFFICULTY_TEXT,
                "type": "choice",
                "options": DIFFICULTY,
                "scored": False,
                "required": False,
            }
        ],
        "source": "Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006;166:1092-1097",
    },
}
# PHQ-9 item 9 is flagged in the instrument's own definition, too
INSTRUMENTS["phq9"]["items"][8]["risk"] = True
