"""Typical healing times per injury category (the physio article in ../shared/BRIEF.md): the one table.

``coach plan --injury CATEGORY`` remembers the runner's category; its week ahead prints the window once
(:func:`coach.plan.week.healing_line`) and :func:`caveat_text` the words around it; ``coach summary``
draws the weeks since the first session against the window (:class:`HealingWindow`). Guidance only: a physio's
assessment comes first. "A few months" for a significant sprain is read as 16 weeks, the end of the window drawn.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HealingWindow:
    """What the injury is called in a sentence, the article's own words for its healing time, and that time in
    weeks (``min_weeks`` to ``max_weeks``)."""

    what: str
    time: str
    min_weeks: float
    max_weeks: float


HEALING: dict[str, HealingWindow] = {
    "sprain-mild": HealingWindow("a mild sprain (muscle or ligament)", "4-6 weeks", 4, 6),
    "sprain-significant": HealingWindow("a significant sprain", "8 weeks to a few months", 8, 16),
    "disc-mild": HealingWindow("a mild disc injury", "8-12 weeks", 8, 12),
    "disc-severe": HealingWindow("a severe disc injury", "6 months to 2 years", 26, 104),
    "nerve": HealingWindow("a nerve irritation", "3 months to 2 years", 13, 104),
}


def caveat_text(category: str | None) -> str:
    """The words that go with the healing window (which the week ahead prints, once): what pain says, and that a
    physio's assessment comes first. Without a category, only the latter."""
    about_pain = (
        "Pain level is not severity: how pain changes over the first two weeks tells most. "
        if category
        else ""
    )
    return (
        f"{about_pain}This is coaching, not diagnosis: a physio's assessment comes first, and their advice wins over "
        "this plan."
    )
