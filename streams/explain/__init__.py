"""`edfi-stream explain`: the decision trail of a score, a student or a studentAssessmentIdentifier."""
