"""The Kansas v3.6 Student Assessments rules (seed 003) as pure code: SIS rows in, Ed-Fi writes out.

Nothing here imports Faust, Kafka, httpx or Prometheus (tests/unit/rules/test_purity.py checks it).
The worker, ``simulate`` and ``resync`` all use this same code.

* :mod:`.config`       RuleConfig, the part of the settings the rules read
* :mod:`.descriptors`  the descriptor tables of 003 as URIs
* :mod:`.state`        one student's SIS rows; the reference rows (tests, schools, calendars, staff)
* :mod:`.evaluate`     current state -> the studentAssessments the ODS should hold, with decisions
* :mod:`.plan`         what the ODS was last told -> the minimal write commands
* :mod:`.engine`       the stateful wrapper that applies change events and re-evaluates who they touch
"""
