"""Built-in integration prompts, by context. Ids are stable: entries refer to them.
Their words are the English msgids of the catalogues (server/i18n.py)."""

from __future__ import annotations

from flask_babel import gettext

from server.i18n import N_

CONTEXTS = {
    "after_dosing": "After a dosing session",
    "before_dosing": "Before a dosing session: intention, set and setting",
    "parts_work": "Getting to know your parts",
    "relapse_prevention": "Relapse-prevention reflection",
    "modality_integration": "Integrating EMDR, ART or IFS work",
}

BUILT_IN = [
    # after a dosing session
    (
        "after-dosing.what-stayed",
        "after_dosing",
        N_("What from the session is still with you today: an image, a feeling, a sentence?"),
    ),
    (
        "after-dosing.body",
        "after_dosing",
        N_("Where in your body do you notice the session now? What is it like?"),
    ),
    (
        "after-dosing.insight",
        "after_dosing",
        N_("Was there a moment of insight? Write it down in your own words before it fades."),
    ),
    (
        "after-dosing.difficult",
        "after_dosing",
        N_(
            "Was anything difficult or frightening? What would help you hold it until the next "
            "integration session?"
        ),
    ),
    (
        "after-dosing.small-step",
        "after_dosing",
        N_("What is one small thing you could do differently this week because of the session?"),
    ),
    # before a dosing session
    (
        "before-dosing.intention",
        "before_dosing",
        N_("What is your intention for the coming session? What would you like to explore or ask?"),
    ),
    (
        "before-dosing.set",
        "before_dosing",
        N_("How are you arriving: your mood, your worries, what you hope and what you fear?"),
    ),
    (
        "before-dosing.setting",
        "before_dosing",
        N_(
            "What would help you feel safe in the room: music, an object, a blanket, words from "
            "your therapist?"
        ),
    ),
    (
        "before-dosing.support",
        "before_dosing",
        N_("Who will be there for you after the session, and how will you rest?"),
    ),
    # parts work
    (
        "parts.meet",
        "parts_work",
        N_("Which part of you was loudest today? What did it want for you?"),
    ),
    (
        "parts.protector",
        "parts_work",
        N_("When a protective part stepped in, what was it afraid would happen if it didn't?"),
    ),
    (
        "parts.exile",
        "parts_work",
        N_("Is there a younger part that felt hurt or alone today? What might it need to hear?"),
    ),
    (
        "parts.self",
        "parts_work",
        N_("Were there moments of calm, curiosity or compassion today? What made room for them?"),
    ),
    # relapse prevention
    (
        "relapse.early-signs",
        "relapse_prevention",
        N_("Have you noticed any of your early warning signs this week? Which ones, and when?"),
    ),
    (
        "relapse.what-helped",
        "relapse_prevention",
        N_("What helped this week, even a little? How could you make room for more of it?"),
    ),
    (
        "relapse.maintenance",
        "relapse_prevention",
        N_("Looking at your plan: is it time to ask your therapist about a maintenance session?"),
    ),
    # modality integration
    (
        "modality.emdr",
        "modality_integration",
        N_(
            "Since your EMDR work, has the memory changed: its picture, its feeling, its truth "
            "about you?"
        ),
    ),
    (
        "modality.art",
        "modality_integration",
        N_(
            "After Accelerated Resolution Therapy, what do you notice when you think of the scene "
            "you rescripted?"
        ),
    ),
    (
        "modality.ifs",
        "modality_integration",
        N_("After your IFS session, how are the parts you met doing? Did any of them unburden?"),
    ),
]

BUILT_IN_IDS = {prompt_id for prompt_id, _, _ in BUILT_IN}


def built_in_prompts(context: str | None = None) -> list[dict]:
    """The built-in prompts (of one context), in the language of the request."""
    return [
        {"id": pid, "context": ctx, "text": gettext(text), "source": "built_in"}
        for pid, ctx, text in BUILT_IN
        if context is None or ctx == context
    ]
