"""Issue 19 in a real browser, on a running worker with dead letters of three kinds: sign in, read the
overview, open a dead letter, retry it (after fixing its cause) and see it leave the log, archive a group,
search a student by State Student Identifier and read the reason; viewers and strangers cannot act; no
student data in any URL the browser asked for. Screenshots go to $EDFI_STREAM_SCREENSHOTS (default: the
test's temporary directory)."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from streams.deadletters.log import read_dead_letters
from streams.demo.stack import LocalStack
from tests.support.scenario import build

PERIOD = "uri://ed-fi.org/AssessmentPeriodDescriptor#Quarter 9"


def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("EDFI_STREAM_SCREENSHOTS") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def post(url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def sign_in(page: Any, base: str, user: str, password: str) -> None:
    page.goto(base + "/console/")
    assert page.url.endswith("/console/login")  # no session: the login page, not the data
    page.fill("#user", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/console/")


def wait_for(check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def says(page: Any, text: str) -> None:
    """The page's main part says `text`, once the navigation a click started has loaded: Playwright's click
    does not wait for the page a form submission leads to, so reading the page at once can read the old one."""
    from playwright.sync_api import expect

    expect(page.locator("main")).to_contain_text(text, timeout=20_000)


def submit(page: Any, selector: str) -> None:
    """Click a button that submits a form and wait until the page it leads to has loaded."""
    with page.expect_navigation(timeout=20_000):
        page.click(selector)


def open_until(page: Any, url: str, text: str, timeout: float = 60) -> None:
    """Open `url` again until its main part says `text` (state the worker applies after a Kafka round
    trip). A navigation still under way when the next starts is not a failure: it is tried again."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            page.goto(url, wait_until="load")
            if text in page.inner_text("main"):
                return
        except Error:
            pass
        assert time.monotonic() < deadline, f"{url} never said {text!r}"
        time.sleep(0.5)


def test_console_in_chromium(browser: Any, tmp_path: Path) -> None:
    events = build(tmp_path / "events.jsonl")
    config = tmp_path / "config.yaml"
    # testID 1 (Math) mapped to a period the ODS does not know yet: every Math write is a 400 dead letter
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n"
                      "periods: {1: Quarter 9}\nweb: {timeZone: America/Chicago}\n")
    out = shots(tmp_path)
    (tmp_path / "stack").mkdir()
    with LocalStack(config, events, partitions=2, workdir=tmp_path / "stack") as stack:
        producer = Producer({**stack.kafka_config, "batch.num.messages": 1, "log_level": 0})
        for n in range(3):
            broken = b'{"op": "c", "after": {broken' + bytes([48 + n])
            producer.produce("sis.test_scores", key=b'{"scoreID": 1}', value=broken)
        producer.flush(10)
        stack.produce(events)
        stack.wait_idle()
        egress = [d for d in read_dead_letters(stack.kafka_config) if d.stage == "egress"]
        assert egress, "the scenario must give Ed-Fi rejections"
        env, base = stack.env, stack.web_url
        state_ids = {json.loads(line)["value"]["after"]["stateID"] for line in events.read_text().splitlines()
                     if json.loads(line)["topic"] == "sis.students" and json.loads(line)["value"]}

        context = browser.new_context(viewport={"width": 1280, "height": 900})
        urls: list[str] = []
        context.on("request", lambda request: urls.append(request.url))
        page = context.new_page()
        sign_in(page, base, env["EDFI_STREAM_WEB_OPERATOR_USER"], env["EDFI_STREAM_WEB_OPERATOR_PASSWORD"])
        body = page.inner_text("main")
        assert "ready" in body and "Dead letters" in body and "Why scores were held" in body
        # district time zone; read from the identity changelog, so it survives a restart
        assert re.search(r"Last successful write\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d C[DS]T", body), body
        assert "Every student of the district" in body and "Acknowledged today, by assessment" in body
        year = re.search(r"Acknowledged this school year \(2023-07-01 to 2024-06-30\)\s+(\d+)", body)
        assert year and int(year.group(1)) > 0, body
        assert page.locator("svg[role=img]").count() >= 4  # charts drawn by the server
        page.screenshot(path=str(out / "overview.png"), full_page=True)
        if os.environ.get("EDFI_STREAM_UPDATE_DOCS_IMAGES") == "1":  # the README's screenshot
            docs = Path(__file__).resolve().parents[2] / "docs" / "images"
            docs.mkdir(exist_ok=True)
            page.screenshot(path=str(docs / "console-overview.png"), full_page=False)

        # the error log: groups, then one Ed-Fi rejection opened
        page.click("text=Error log")
        page.wait_for_url("**/console/errors")
        says(page, "data-validation-failed")
        says(page, "bad_json")
        page.select_option("#f-cause", "data-validation-failed")
        submit(page, "text=Filter")
        first = page.locator("tbody tr").filter(has=page.locator("input[name=ids]")).first
        first.locator("summary").click()
        raw = first.locator("pre").inner_text()
        assert '"stage": "egress"' in raw and '"status": 400' in raw
        page.screenshot(path=str(out / "error-log.png"), full_page=True)
        letter = first.locator("input[name=ids]").get_attribute("value")

        # fix the cause (the ODS learns the period), retry that one letter, see it leave the log
        stack.emulator_thread.call(lambda: stack.emulator.add_descriptor("AssessmentPeriodDescriptor", PERIOD))
        before = len(stack.emulator.records())
        first.locator("input[name=ids]").check()
        submit(page, "button[value=retry]")
        says(page, "Retry 1 dead letter")
        page.screenshot(path=str(out / "confirm-retry.png"))
        submit(page, "button.danger")
        says(page, "Re-sent 1 dead letters")
        stack.wait_idle()
        wait_for(lambda: len(stack.emulator.records()) == before + 1)
        page.goto(base + "/console/errors")
        assert f'value="{letter}"' not in page.content()

        # archive a whole group (the three unreadable inputs)
        group = page.locator("tr", has_text="bad_json").first
        with page.expect_navigation(timeout=20_000):
            group.locator("button", has_text="Archive group").click()
        says(page, "Archive 3 dead letters")
        submit(page, "button.danger")
        says(page, "Archived 3 dead letters")
        assert "bad_json" not in page.locator("table").first.inner_text()
        page.click("text=Archived letters")  # out of the log, still findable
        page.wait_for_url("**/console/errors?archived=1")
        archived = page.inner_text("main")
        assert archived.count("bad_json") >= 3 and "data-validation-failed" in archived

        # Why? by State Student Identifier: student 4's school is excluded
        page.click("text=Why?")
        page.select_option("#kind", "stateID")
        page.fill("#value", "00000004")
        submit(page, "form[action='/console/why'] button")
        says(page, "marked Exclude")
        page.screenshot(path=str(out / "why.png"), full_page=True)

        # the resync preview: the real dry-run plan, computed by the worker
        page.click("text=Resync preview")
        submit(page, "text=Preview the resync")
        says(page, "ODS records in scope")
        text = page.inner_text("main")
        assert "ODS records in scope" in text and "edfi-stream resync" in text, text
        page.screenshot(path=str(out / "resync-preview.png"), full_page=True)

        # the toggle, through its confirmation
        page.goto(base + "/console/")
        page.click("text=Turn studentAssessments off")
        submit(page, "button.danger")
        open_until(page, base + "/console/", "studentAssessments is off")
        page.click("text=Turn studentAssessments on")
        submit(page, "button.danger")
        # its history, read back from edfi.control; the audit trail says who did what
        open_until(page, page.url, "turned on")
        assert "turned off" in page.inner_text("main")
        page.click("text=Audit trail")
        page.wait_for_url("**/console/audit")
        trail = page.inner_text("main")
        operator = env["EDFI_STREAM_WEB_OPERATOR_USER"]
        for action, what in (("retry", "the group data-validation-failed"), ("archive", "the group bad_json"),
                             ("toggle", "studentAssessments off"), ("toggle", "studentAssessments on")):
            assert re.search(rf"{operator}\s+operator\s+{action}\s+{what}", trail), trail
        assert not any(state_id in trail for state_id in state_ids)
        page.screenshot(path=str(out / "audit.png"), full_page=True)

        # on a phone: the same page, readable
        phone = browser.new_context(viewport={"width": 390, "height": 844})
        phone.add_cookies(context.cookies())
        mobile = phone.new_page()
        mobile.goto(base + "/console/errors")
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        mobile.screenshot(path=str(out / "error-log-phone.png"), full_page=True)
        phone.close()

        # no State Student Identifier or studentAssessmentIdentifier in any URL the browser asked for
        for url in urls:
            for sid in state_ids:
                assert sid not in url, url
            assert not re.search(r"_\d{8}_\d{4}", url), url

        # a viewer reads but cannot act; a stranger cannot even read. The viewer's browser runs no
        # JavaScript at all: every page and form works without it
        viewer = browser.new_context(java_script_enabled=False).new_page()
        sign_in(viewer, base, env["EDFI_STREAM_WEB_VIEWER_USER"], env["EDFI_STREAM_WEB_VIEWER_PASSWORD"])
        viewer.keyboard.press("Tab")  # keyboard: the first stop is the skip link
        assert viewer.evaluate("document.activeElement.className") == "skip" or \
            viewer.locator("a.skip:focus").count() == 1
        viewer.goto(base + "/console/errors")
        assert "data-validation-failed" in viewer.inner_text("main")
        viewer.locator("summary").first.click()  # the raw record opens without JavaScript (<details>)
        assert '"stage"' in viewer.locator("details[open] pre").first.inner_text()
        viewer.goto(base + "/console/why")
        viewer.select_option("#kind", "stateID")
        viewer.fill("#value", "00000004")
        submit(viewer, "form[action='/console/why'] button")
        says(viewer, "marked Exclude")
        viewer.goto(base + "/console/errors")
        assert viewer.locator("input[name=ids]").count() == 0 and "Archive group" not in viewer.content()
        csrf = viewer.locator("input[name=csrf]").first.get_attribute("value")
        response = viewer.request.post(base + "/console/errors/apply",
                                       form={"csrf": csrf, "action": "archive", "confirm": "yes", "ids": letter})
        assert response.status == 403
        assert post(base + "/console/errors/apply", {"action": "archive", "confirm": "yes"}) == 401
        operator_token = {"Authorization": "Bearer " + env["EDFI_STREAM_WEB_OPERATOR_TOKEN"]}
        assert post(base + "/console/errors/apply", {"action": "archive", "confirm": "yes"}, operator_token) == 403
        assert post(base + "/console/toggle/apply", {"enabled": "off", "confirm": "yes", "csrf": "forged"},
                    operator_token) == 403  # a forged CSRF token
        context.close()
