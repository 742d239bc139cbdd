"""PHQ-9 and GAD-7 scored exactly as published, at every severity boundary."""

import pytest

from server.checkins import scoring
from server.checkins.instruments import INSTRUMENTS


def answers_totalling(instrument: str, total: int, n_items: int) -> dict:
    """Spread `total` over the scored items, 0-3 each."""
    values, left = [], total
    for _ in range(n_items):
        values.append(min(3, left))
        left -= values[-1]
    assert left == 0
    return {f"{instrument}_{i + 1}": v for i, v in enumerate(values)}


@pytest.mark.parametrize(
    "total, band",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands(total, band):
    scored = scoring.score("phq9", answers_totalling("phq9", total, 9))
    assert (scored.score, scored.severity, scored.complete) == (total, band, True)


@pytest.mark.parametrize(
    "total, band",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands(total, band):
    scored = scoring.score("gad7", answers_totalling("gad7", total, 7))
    assert (scored.score, scored.severity, scored.complete) == (total, band, True)


def test_difficulty_item_is_not_scored():
    answers = {**answers_totalling("phq9", 6, 9), "phq9_difficulty": 3}
    assert scoring.score("phq9", answers).score == 6


@pytest.mark.parametrize("missing", ["phq9_1", "phq9_9"])
def test_incomplete_phq9_is_not_scored(missing):
    answers = answers_totalling("phq9", 12, 9)
    del answers[missing]
    scored = scoring.score("phq9", answers)
    assert (scored.score, scored.severity, scored.complete) == (None, None, False)


def test_a_null_answer_counts_as_unanswered():
    answers = {**answers_totalling("gad7", 3, 7), "gad7_4": None}
    assert scoring.score("gad7", answers).complete is False


def test_item_9_above_zero_is_a_risk_even_when_incomplete():
    assert scoring.score("phq9", {"phq9_9": 1}).risk_reasons == ("phq9_item9",)
    assert scoring.score("phq9", answers_totalling("phq9", 8, 8)).risk_reasons == ()


def test_daily_safety_yes_is_a_risk():
    daily = {
        "mood": 3,
        "anxiety": 6,
        "sleep_quality": 4,
        "sleep_hours": 5.5,
        "rumination": 7,
        "safety": True,
    }
    scored = scoring.score("daily", daily)
    assert scored.complete and scored.risk_reasons == ("daily_safety",)
    assert scored.score is None and scored.severity is None


@pytest.mark.parametrize(
    "instrument, answers, bad",
    [
        ("phq9", {"phq9_1": 4}, "phq9_1"),
        ("phq9", {"phq9_1": -1}, "phq9_1"),
        ("phq9", {"phq9_1": 1.0}, "phq9_1"),
        ("phq9", {"phq9_1": True}, "phq9_1"),
        ("phq9", {"phq9_10": 1}, "phq9_10"),
        ("gad7", {"gad7_8": 0}, "gad7_8"),
        ("daily", {"mood": 11}, "mood"),
        ("daily", {"sleep_hours": 25}, "sleep_hours"),
        ("daily", {"safety": "no"}, "safety"),
        ("daily", {"note": "x" * 2001}, "note"),
    ],
)
def test_out_of_range_answers_are_named(instrument, answers, bad):
    with pytest.raises(scoring.AnswerError) as err:
        scoring.validate_answers(instrument, answers)
    assert list(err.value.errors) == [bad]


def test_published_wording_and_options():
    phq9 = INSTRUMENTS["phq9"]
    assert phq9["time_frame"].startswith("Over the last 2 weeks")
    assert phq9["items"][8]["text"] == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert [o["label"] for o in phq9["items"][0]["options"]] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert len([i for i in phq9["items"] if i["scored"]]) == 9
    assert len([i for i in INSTRUMENTS["gad7"]["items"] if i["scored"]]) == 7


@pytest.mark.parametrize(
    "baseline, latest, response, remission",
    [
        (20, 10, True, False),
        (20, 11, False, False),
        (20, 4, True, True),
        (6, 4, False, True),
        (0, 0, False, True),
        (None, 3, False, False),
    ],
)
def test_response_and_remission(baseline, latest, response, remission):
    assert scoring.response_and_remission(baseline, latest) == (response, remission)
