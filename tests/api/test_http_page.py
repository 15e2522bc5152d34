"""The built-in page at GET /, in a real headless Chromium (Debian's `chromium` package) driven by
Playwright, against the real server: type a task, see the routed agent, the answer and the tools.

Browser downloads are impossible here, so Playwright runs the system binary (/usr/bin/chromium).
Every request the page makes is watched: anything not to the server itself fails the test,
which is what "self-contained" means.
"""

from __future__ import annotations

import os
import re
import time
from html.parser import HTMLParser

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from skills.server.app import PAGE_PATH
from tests.fixtures.http_server import start_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
TASK = "Check CPU usage on the server"  # answered on this machine, with no API key or database
AMBIGUOUS_TASK = "contractor database"  # two agents fit equally well
KEY = "page-test-key-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("page-state")))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (Debian's package)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield context
        context.close()


@pytest.fixture
def page(browser, server):
    """A fresh tab that records every request going anywhere but the server."""
    tab = browser.new_page()
    tab.outside_requests = []
    tab.policy_violations = []
    tab.on("request", lambda request: _watch(tab, server.url, request.url))
    tab.on("console", lambda message: _watch_policy(tab, message.text))
    yield tab
    assert tab.outside_requests == [], "the page must load nothing from elsewhere"
    assert tab.policy_violations == [], "the page must run within its own Content-Security-Policy"
    tab.close()


def _watch_policy(tab: Page, text: str) -> None:
    if "Content Security Policy" in text:
        tab.policy_violations.append(text)


def _watch(tab: Page, base: str, url: str) -> None:
    if not (url == base or url.startswith((base + "/", "data:", "about:"))):
        tab.outside_requests.append(url)


def ask(page: Page, task: str) -> None:
    page.get_by_label("Task").fill(task)
    page.get_by_role("button", name="Ask", exact=True).click()


# --- the file itself ---------------------------------------------------------------------


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []
        self.labels, self.inputs = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "action", "srcset"):
            if attrs.get(name):
                self.found.append((tag, name, attrs[name]))
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if tag in ("input", "textarea", "select"):
            self.inputs.append(attrs.get("id"))


def test_page_file_references_nothing_outside_itself():
    with open(PAGE_PATH, encoding="utf-8") as handle:
        html = handle.read()
    parser = _References()
    parser.feed(html)
    assert parser.found == []  # no <script src>, <link href>, <img src>, <a href>, <form action>
    # the SVG namespace is a name the chart's elements are created in, never fetched
    assert not re.search(r"@import|url\(|https?://", html.replace('"http://www.w3.org/2000/svg"', ""))


def test_every_form_field_has_a_label():
    with open(PAGE_PATH, encoding="utf-8") as handle:
        parser = _References()
        parser.feed(handle.read())
    assert parser.inputs and all(field in parser.labels for field in parser.inputs)


def test_server_serves_the_page_as_html(server):
    response = requests.get(server.url + "/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    with open(PAGE_PATH, encoding="utf-8") as handle:
        assert response.text == handle.read()
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "script-src 'sha256-" in policy and "unsafe-inline" not in policy


# --- in the browser ----------------------------------------------------------------------


def test_asking_a_task_shows_agent_confidence_answer_and_tools(page, server, tmp_path):
    page.set_viewport_size({"width": 1100, "height": 1000})
    page.goto(server.url + "/")
    expect(page.locator("#agents table.agents tbody tr")).to_have_count(5)
    ask(page, TASK)
    answer = page.locator("#answer")
    expect(answer).to_be_visible(timeout=30_000)
    expect(answer).to_have_attribute("data-agent", "vps-monitor")
    expect(answer.locator(".meta")).to_contain_text("VPS Monitor Agent")
    expect(answer.locator(".meta")).to_contain_text("Confidence")
    expect(answer.locator(".answer")).to_contain_text("CPU")
    tools = answer.locator("table.tools tbody tr")
    expect(tools).to_have_count(1)
    expect(tools.first).to_contain_text("cpu_usage")
    expect(tools.first).to_contain_text("ok")
    expect(tools.first).to_contain_text(re.compile(r"\d+ ms"))
    page.screenshot(path=str(tmp_path / "page-answer.png"), full_page=True)
    assert os.path.getsize(tmp_path / "page-answer.png") > 10_000


def test_enter_in_the_task_box_sends_it(page, server):
    page.goto(server.url + "/")
    page.get_by_label("Task").fill("How much RAM is free on the VPS?")
    page.get_by_label("Task").press("Enter")
    expect(page.locator("#answer table.tools")).to_contain_text("memory_usage", timeout=30_000)


def test_unsure_routing_shows_the_options_and_one_can_be_picked(page, server):
    page.goto(server.url + "/")
    ask(page, AMBIGUOUS_TASK)
    options = page.locator("#options li")
    expect(options.first).to_be_visible(timeout=30_000)
    assert options.count() >= 2
    expect(page.locator("#result")).to_contain_text("More than one agent")
    names = page.locator("#options li strong").all_inner_texts()
    assert "Neon PostgreSQL Agent" in names and "Contractor Management Agent" in names
    # Picking one runs /orchestrator/execute with that agent: here it is not configured (no
    # database), and the page says so in words rather than failing silently.
    page.locator("#options li", has_text="Neon PostgreSQL Agent").get_by_role("button").click()
    expect(page.locator("#result [role=alert]")).to_contain_text("NEON_DATABASE_URL", timeout=30_000)


def test_agents_list_shows_status_and_category_and_stats_show_totals(page, server):
    page.goto(server.url + "/")
    row = page.locator("#agents tbody tr", has_text="VPS Monitor Agent")
    expect(row).to_contain_text("Infrastructure")  # words, not the slug
    expect(row).to_contain_text("Ready")  # active and configured: one status, not two
    expect(page.locator("#agents tbody tr", has_text="Neon PostgreSQL Agent")).to_contain_text("Needs setup")
    stats = page.locator("#stats")
    expect(stats.locator("dl.stats")).to_contain_text("Agents")
    expect(stats.locator("dl.stats div", has_text="Agents").first.locator("dd")).to_have_text("5")
    expect(stats).to_contain_text("Infrastructure: 1")
    expect(stats).to_contain_text("Data management: 2")


def test_page_fits_a_phone_screen_without_sideways_scrolling(page, server, tmp_path):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(server.url + "/")
    expect(page.locator("#agents tbody tr")).to_have_count(5)
    ask(page, TASK)
    expect(page.locator("#answer")).to_be_visible(timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(tmp_path / "page-phone.png"), full_page=True)


def test_with_an_api_key_the_page_asks_for_it_then_sends_it_as_bearer(browser, tmp_path):
    running = start_server(str(tmp_path), ORCHESTRATOR_API_KEY=KEY)
    tab = browser.new_page()
    sent = []
    tab.on("request", lambda request: sent.append(request.headers.get("authorization")))
    try:
        tab.goto(running.url + "/")  # the page itself is public
        expect(tab.locator("#agents [role=alert]")).to_contain_text("API key")
        tab.locator("#key-box summary").click()
        tab.get_by_label("API key").fill(KEY)
        tab.get_by_role("button", name="Use key").click()
        expect(tab.locator("#agents tbody tr")).to_have_count(5)
        assert tab.evaluate("sessionStorage.getItem('orchestrator_api_key')") == KEY
        ask(tab, TASK)
        expect(tab.locator("#answer")).to_be_visible(timeout=30_000)
        assert f"Bearer {KEY}" in sent
        assert KEY not in tab.locator("body").inner_text()  # never shown back
    finally:
        tab.evaluate("sessionStorage.clear()")
        tab.close()
        running.stop()


def test_a_correction_from_the_page_is_recorded_and_stats_show_agent_selection_accuracy(browser, tmp_path):
    running = start_server(str(tmp_path))  # its own ledger, so the accuracy is this test's alone
    tab = browser.new_page()
    try:
        tab.goto(running.url + "/")
        expect(tab.locator("#agents tbody tr")).to_have_count(5)
        ask(tab, TASK)
        expect(tab.locator("#answer")).to_have_attribute("data-agent", "vps-monitor", timeout=30_000)
        tab.locator("#refresh").click()  # the routed execution is in the ledger now: nobody has objected
        accuracy = tab.locator("#stats dl.stats div", has_text="Agent selection accuracy").locator("dd")
        expect(accuracy).to_have_text("100%")

        choice = tab.get_by_label("Wrong agent? It should have gone to")
        assert "VPS Monitor Agent" not in choice.locator("option").all_inner_texts()  # not the agent it went to
        send = tab.get_by_role("button", name="Send correction")
        send.click()  # nothing chosen yet: the form does not send
        expect(tab.locator("#verdict-outcome")).to_have_text("")
        choice.select_option(label="No agent (none of them does this)")
        send.click()
        expect(tab.locator("#verdict-outcome")).to_contain_text("Recorded (1 of 2 needed)")
        expect(send).to_be_disabled()  # one verdict per answer: a double click does not confirm it
        expect(accuracy).to_have_text("0%")
        stats = requests.get(running.url + "/orchestrator/stats", timeout=30).json()
    finally:
        tab.close()
        running.stop()
    assert stats["routing"]["feedback"] == {"recorded": 1, "corrections": 1, "confirmed_tasks": 0}


# --- the workbench (issue 22): live steps, tables, history, figures over a window, no dead ends ---

NO_MATCH_TASK = "bake a chocolate cake"  # nothing in it comes near any agent
LIST_TASK = "Show the top processes on the server"  # answered offline with a list of records


def shot(page: Page, tmp_path, name: str) -> str:
    """A full-page screenshot under the test's own output directory, its path printed for a reviewer."""
    path = str(tmp_path / f"{name}.png")
    page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")
    return path


def ready(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator("html[data-ready=true]")).to_be_attached(timeout=30_000)


# Kept by the page itself: each step as it appears (with its text then) and the answer, in order.
WATCH_STEPS = """() => {
  window.seen = [];
  const result = document.getElementById("result");
  new MutationObserver(() => {
    for (const li of result.querySelectorAll("#steps li:not([data-seen])")) {
      li.dataset.seen = "1";
      window.seen.push(`${li.dataset.step}: ${li.textContent}`);
    }
    if (document.getElementById("answer") && !window.seen.includes("answer")) window.seen.push("answer");
  }).observe(result, { childList: true, subtree: true });
}"""


def test_the_steps_show_as_they_happen_then_the_answer(page, server, tmp_path):
    sent = []
    page.on("request", lambda r: sent.append(r.headers.get("accept")) if r.url.endswith("/smart-execute") else None)
    ready(page, server.url)
    page.evaluate(WATCH_STEPS)
    ask(page, TASK)
    running = page.locator("#steps li.running")
    expect(running).to_contain_text("Running cpu_usage", timeout=30_000)  # the tool takes half a second
    shot(page, tmp_path, "page-steps-live")
    expect(page.locator("#answer")).to_be_visible(timeout=30_000)
    seen = page.evaluate("window.seen")
    assert seen[0].startswith("routed: Routed to the VPS Monitor Agent"), seen
    assert "tool: Running cpu_usage" in seen and seen.index("tool: Running cpu_usage") < seen.index("answer"), seen
    assert sent == ["text/event-stream"]
    page.locator("#result details summary", has_text="Steps").click()  # the steps stay, folded away
    expect(page.locator("#steps li[data-step=tool]")).to_have_text(re.compile(r"cpu_usage: ok in \d+ ms"))
    shot(page, tmp_path, "page-steps-done")


def test_without_streaming_the_page_reads_the_plain_answer(page, server):
    ready(page, server.url)

    def plain(route):  # as a proxy that strips the header would: the server then answers JSON
        route.continue_(headers={**route.request.headers, "accept": "application/json"})

    page.route("**/orchestrator/smart-execute", plain)
    ask(page, TASK)
    expect(page.locator("#answer")).to_have_attribute("data-agent", "vps-monitor", timeout=30_000)
    expect(page.locator("#answer table.tools")).to_contain_text("cpu_usage")
    expect(page.locator("#steps")).to_have_count(0)  # no events came, so no steps are shown


def column(page: Page, index: int) -> list[str]:
    return page.locator(f"#data-table tbody tr td:nth-child({index})").all_inner_texts()


def test_rows_in_the_answer_are_a_table_sorted_by_a_clicked_header(page, server, tmp_path):
    ready(page, server.url)
    ask(page, LIST_TASK)
    table = page.locator("#data-table")
    expect(table).to_be_visible(timeout=30_000)
    headers = table.locator("thead th").all_inner_texts()
    pid = headers.index("Pid") + 1
    assert len(column(page, pid)) >= 2
    table.get_by_role("button", name="Pid").click()
    expect(table.locator("thead th").nth(pid - 1)).to_have_attribute("aria-sort", "ascending")
    assert column(page, pid) == sorted(column(page, pid), key=int)  # numbers as numbers, not text
    table.get_by_role("button", name="Pid").click()
    expect(table.locator("thead th").nth(pid - 1)).to_have_attribute("aria-sort", "descending")
    assert column(page, pid) == sorted(column(page, pid), key=int, reverse=True)
    command = headers.index("Command") + 1
    table.get_by_role("button", name="Command").focus()
    page.keyboard.press("Enter")  # the headers are buttons: the keyboard sorts too
    expect(table.locator("thead th").nth(command - 1)).to_have_attribute("aria-sort", "ascending")
    assert column(page, command) == sorted(column(page, command), key=str.lower)
    expect(page.locator("table.fields")).to_contain_text("Total processes")  # the other fields beside the rows
    shot(page, tmp_path, "page-sorted-table")


def test_an_answer_is_reopened_from_history_and_asked_again(page, server, tmp_path):
    ready(page, server.url)
    ask(page, "How much RAM is free on the VPS?")
    expect(page.locator("#answer")).to_be_visible(timeout=30_000)
    newest = page.locator("#history-list li button").first
    expect(newest).to_contain_text("How much RAM is free on the VPS?")
    first_id = int(newest.get_attribute("data-id"))
    answer_text = page.locator("#answer .answer").inner_text()

    ready(page, server.url)  # a new visit: the answer is gone from the page, not from the ledger
    expect(page.locator("#answer")).to_have_count(0)
    item = page.locator(f"#history-list button[data-id='{first_id}']")
    expect(item).to_contain_text("VPS Monitor Agent")  # named, not its id
    item.click()
    answer = page.locator("#answer")
    expect(answer).to_have_attribute("data-agent", "vps-monitor")
    expect(answer.locator(".answer")).to_have_text(answer_text)
    expect(answer.locator("table.tools")).to_contain_text("memory_usage")
    expect(page.locator("#result")).to_contain_text("Asked just now")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]  # nothing sticks out
    shot(page, tmp_path, "page-history-reopened")
    page.get_by_role("button", name="Ask again").click()
    expect(page.locator("#answer table.tools")).to_contain_text("memory_usage", timeout=30_000)
    expect(page.locator("#history-list li button").first).not_to_have_attribute("data-id", str(first_id))
    assert int(page.locator("#history-list li button").first.get_attribute("data-id")) > first_id


def test_no_match_offers_the_nearest_agents_and_the_correction_form(browser, tmp_path):
    os.makedirs(tmp_path / "state")
    running = start_server(str(tmp_path / "state"))  # its own ledger: the verdict counted is this test's
    tab = browser.new_page()
    try:
        ready(tab, running.url)
        ask(tab, NO_MATCH_TASK)
        expect(tab.locator("#result .notice.warn")).to_contain_text("No agent clearly fits", timeout=30_000)
        buttons = tab.locator("#options li button")
        assert buttons.count() >= 1
        assert all(text.startswith("Ask the ") for text in buttons.all_inner_texts())
        shot(tab, tmp_path, "page-no-match")

        choice = tab.get_by_label("Which agent should take tasks like this? Tell routing:")
        choice.select_option(label="Project Management Agent")
        tab.get_by_role("button", name="Send correction").click()
        expect(tab.locator("#verdict-outcome")).to_contain_text("Recorded (1 of 2 needed)")
        feedback = requests.get(running.url + "/orchestrator/stats", timeout=30).json()["routing"]["feedback"]
        assert feedback["recorded"] == 1 and feedback["corrections"] == 1

        # following a suggestion runs that agent; this one needs setup, and the error says which setting
        tab.get_by_role("button", name="Ask the Convex Task Agent").click()
        expect(tab.locator("#result [role=alert]")).to_contain_text("CONVEX_URL", timeout=30_000)
        shot(tab, tmp_path, "page-suggestion-needs-setup")
    finally:
        tab.close()
        running.stop()


def seed_ledger(state_dir: str) -> None:
    """Executions at known ages, and a verdict against one routed run: what the window must tell apart."""
    from skills.config import Settings
    from skills.ledger import records as ledger
    from skills.text import task_key

    settings = Settings({"ORCHESTRATOR_STATE_DIR": state_dir})
    now = time.time()
    runs = [("vps-monitor", "cpu now", 0.1, True), ("vps-monitor", "ram now", 0.2, True)]
    runs += [("vps-monitor", f"disk {n}", 3 * 86400 + n, True) for n in range(3)]
    runs += [("vps-monitor", "old uptime", 40 * 86400, True), ("contractor-agent", "crews", 3 * 86400, False)]
    for agent, task, age_s, ok in runs:
        entry = ledger.ExecutionRecord(agent, task, "direct", ok, 120.0, route_status="high_confidence")
        entry.started_at = now - age_s
        ledger.record(settings, entry)
    wrong = ledger.FeedbackRecord("cpu now", task_key("cpu now"), "vps-monitor", None, "cli")
    ledger.record_feedback(settings, wrong)


def test_the_figures_follow_the_chosen_window(browser, tmp_path):
    state = str(tmp_path / "state")
    seed_ledger(state)
    running = start_server(state)
    tab = browser.new_page()
    asked = []
    tab.on("request", lambda r: asked.append(r.url) if "/orchestrator/stats" in r.url else None)
    try:
        tab.set_viewport_size({"width": 1200, "height": 1000})
        ready(tab, running.url)
        vps = tab.locator("#agents tbody tr[data-agent=vps-monitor]")
        calls = vps.locator("td[data-label=Calls]")
        expect(calls).to_have_text("5")  # the default window is the last 7 days
        expect(tab.locator("#chart-svg")).to_have_attribute("data-executions", "6")
        expect(tab.locator("#agents tbody tr[data-agent=contractor-agent] td[data-label=Success]")).to_have_text("0%")
        expect(vps.locator("td[data-label='Selection accuracy']")).to_have_text("80%")  # 1 of its 5 corrected
        expect(tab.locator("#agents tbody tr[data-agent=convex-database]")).to_contain_text("CONVEX_URL")
        shot(tab, tmp_path, "page-agents-7d")

        tab.get_by_label("Figures over").select_option(label="Last 24 hours")
        expect(calls).to_have_text("2")
        expect(tab.locator("#chart-svg")).to_have_attribute("data-executions", "2")
        expect(vps.locator("td[data-label='Selection accuracy']")).to_have_text("50%")
        assert asked[-1].endswith("/orchestrator/stats?since=24h")
        tab.get_by_label("Figures over").select_option(label="All time")
        expect(calls).to_have_text("6")
        expect(tab.locator("#stats dl.stats div", has_text="Executions").locator("dd")).to_have_text("7")
        assert asked[-1].endswith("/orchestrator/stats")
        shot(tab, tmp_path, "page-agents-all-time")
    finally:
        tab.close()
        running.stop()


def test_the_models_text_shows_as_it_is_written(browser, tmp_path, _fake_anthropic_server, fake_anthropic):
    """The model path: text deltas from the real SDK's stream (the Messages API double) appear in the
    page before the answer, then the answer says the model gave it."""
    from tests.fixtures.fake_anthropic import reply_text, reply_tool_use

    os.makedirs(tmp_path / "state")
    running = start_server(str(tmp_path / "state"), **_fake_anthropic_server.env())
    fake_anthropic.script(
        [
            reply_tool_use("load_average", {}, text="Let me look at the load."),
            reply_text("The load average is 0.42 over the last minute."),
        ]
    )
    tab = browser.new_page()
    try:
        ready(tab, running.url)
        tab.evaluate(WATCH_STEPS)
        tab.evaluate("""() => new MutationObserver(() => {
            const live = document.getElementById("live-text");
            if (live && live.textContent && !window.seen.includes("text")) window.seen.push("text");
        }).observe(document.getElementById("result"), { childList: true, subtree: true, characterData: true })""")
        ask(tab, "What is the load average on the server?")
        answer = tab.locator("#answer")
        expect(answer.locator(".answer")).to_have_text("The load average is 0.42 over the last minute.", timeout=30_000)
        expect(answer.locator(".meta")).to_contain_text("by the model")
        seen = tab.evaluate("window.seen")
        assert "text" in seen and seen.index("text") < seen.index("answer"), seen
        assert any(step.startswith("tool: ") and "load_average" in step for step in seen), seen
    finally:
        tab.close()
        running.stop()


def test_a_data_answer_shows_what_it_was_understood_as_its_sql_and_its_rows(browser, tmp_path, pg_url):
    """A question a data agent reads: the reading in words, the SQL as run, then the rows as a table."""
    import psycopg2

    (tmp_path / "state").mkdir()
    running = start_server(str(tmp_path / "state"), DATABASE_URL=pg_url)
    tab = browser.new_page()
    try:
        ready(tab, running.url)
        ask(tab, "List the purchase orders in draft")
        expect(tab.locator("#interpretation")).to_contain_text("draft", timeout=30_000)
        sql = tab.locator("pre.sql code").inner_text()
        assert "'draft'" in sql and "%s" not in sql  # the statement as run, parameters inline
        connection = psycopg2.connect(pg_url)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)  # what the page shows is what ran: run apart, it gives the rows shown
                expected = len(cursor.fetchall())
        finally:
            connection.close()
        assert expected > 1
        expect(tab.locator("#data-table tbody tr")).to_have_count(expected)
        shot(tab, tmp_path, "page-data-answer")
    finally:
        tab.close()
        running.stop()
