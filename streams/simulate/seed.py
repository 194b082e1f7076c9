"""Seed an Ed-Fi emulator with what the SIS events imply already exists in the ODS.

In a district the students, schools and staff reach the ODS through other resources of the SIS
integration; the assessments and descriptors are loaded by the state. Here the emulator gets every
studentUniqueId, schoolId and staffUniqueId that appears in the events (any version of the row), so that
reference checks (409) behave as in a district whose ODS is complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from streams.io.events_file import FileEvent, read_events
from streams.topics import SCHOOLS, STAFF, STUDENTS


def ods_people_and_schools(events: Iterable[FileEvent | Exception]) -> tuple[set[str], set[int], set[str]]:
    students: set[str] = set()
    schools: set[int] = set()
    staff: set[str] = set()
    for event in events:
        if not isinstance(event, FileEvent) or not isinstance(event.value, dict):
            continue
        for image in (event.value.get("before"), event.value.get("after")):
            if not isinstance(image, dict):
                continue
            if event.topic == STUDENTS and isinstance(image.get("stateID"), str):
                students.add(image["stateID"].strip())
            elif event.topic == SCHOOLS and isinstance(image.get("stateSchoolID"), int):
                schools.add(image["stateSchoolID"])
            elif event.topic == STAFF and isinstance(image.get("staffStateID"), str):
                staff.add(image["staffStateID"])
    return students, schools, staff


def seed_emulator(emulator: Any, events: str | Path | Iterable[FileEvent | Exception]) -> None:
    """``events``: an events file, or its events already read."""
    students, schools, staff = ods_people_and_schools(
        read_events(events) if isinstance(events, (str, Path)) else events)
    for sid in sorted(students):
        if sid:
            emulator.add_student(sid)
    for school in sorted(schools):
        emulator.add_school(school)
    for staff_id in sorted(staff):
        emulator.add_staff(staff_id)
