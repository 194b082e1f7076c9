"""The one list of decision reasons: why a score was sent, held or not reported.

Every :class:`streams.rules.evaluate.Decision` carries one of these (``Reason`` is a Literal, so mypy refuses a
reason that is not listed here); the metrics label ``edfi_stream_rule_decisions_total{outcome}`` takes its
fixed set from :data:`REASONS`, so a new reason is a new label value, never ``other``.
docs/observability.md lists them with their meaning.
"""

from __future__ import annotations

from typing import Literal, get_args

Outcome = Literal["sent", "held", "not_reported"]

Reason = Literal[
    "sent",                    # the score gives the record, or is one of its objective results
    "superseded",              # a more recent score of the same student assessment gives the record
    "no_active_enrollment",    # no active enrollment (of the configuration's school year) on the date
    "out_of_scope_year",       # the assessment date is outside the configuration year
    "test_out_of_scope_year",  # the test's endYear is another year (a record already sent is kept, 003)
    "excluded_enrollment",     # State Exclude or No Show
    "excluded_calendar",
    "excluded_school",
    "grade_not_eligible",      # the Dyslexia screener outside grades 05-08, 13
    "student_unknown",         # rows not arrived yet
    "test_unknown",
    "calendar_unknown",
    "school_unknown",
    "not_state_reported",      # the test has no stateCode (nor a parent with one)
    "not_mapped",              # a stateCode with no key in assessmentKeys
    "toggled_off",             # the studentAssessments resource is turned off (003 Resync Logic, None)
]

REASONS: tuple[Reason, ...] = get_args(Reason)
HOLD_REASONS: tuple[Reason, ...] = tuple(r for r in REASONS if r != "sent")
