"""A score that passed every condition of 003, with what it reports through (one per score)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from streams.sis.rows import Enrollment, School, Test, TestScore


@dataclass(frozen=True, slots=True)
class Candidate:
    score: TestScore
    test: Test            # the test the score is on
    parent: Test          # the state-reported test (the same as ``test`` unless ``test`` is a child)
    is_child: bool
    day: dt.date
    enrollment: Enrollment
    school: School
    said: str

    @property
    def recency(self) -> tuple[dt.date, int]:
        # 003: the most recent result; with no date, the scoreID decides (the effective date ties).
        return (self.day, self.score.score_id)
