"""Regional crisis resources for the crisis card. Views never hard-code these.

Each region: the emergency number, and crisis lines in the order to show them.
A region is chosen by the plan's `region`, else the country part of the user's locale.
"""

EMERGENCY_WORDS = (
    "Between is not an emergency service and nobody watches entries in real time. "
    "If you are in danger or might act on thoughts of ending your life, call {emergency} "
    "now or go to the nearest emergency department."
)
FALLBACK_EMERGENCY_WORDS = (
    "Between is not an emergency service and nobody watches entries in real time. "
    "If you are in danger or might act on thoughts of ending your life, call your local "
    "emergency number now or go to the nearest emergency department."
)

REGIONS = {
    "US": {
        "emergency": "911",
        "lines": [
            {
                "name": "988 Suicide & Crisis Lifeline",
                "phone": "988",
                "sms": "988",
                "note": "Call or text, 24/7",
            },
            {
                "name": "Crisis Text Line",
                "phone": None,
                "sms": "741741",
                "note": "Text HOME to 741741, 24/7",
            },
        ],
    },
    "GB": {
        "emergency": "999",
        "lines": [
            {"name": "Samaritans", "phone": "116 123", "sms": None, "note": "Free, 24/7"},
            {"name": "Shout", "phone": None, "sms": "85258", "note": "Text SHOUT to 85258"},
        ],
    },
    "CA": {
        "emergency": "911",
        "lines": [
            {
                "name": "9-8-8 Suicide Crisis Helpline",
                "phone": "988",
                "sms": "988",
                "note": "Call or text, 24/7",
            },
        ],
    },
}
REGIONS["UK"] = REGIONS["GB"]


def region_from_locale(locale: str | None) -> str | None:
    """'en-US' → 'US'; None when the locale names no country."""
    if not locale:
        return None
    parts = locale.replace("_", "-").split("-")
    return parts[1].upper() if len(parts) > 1 and len(parts[1]) == 2 else None
