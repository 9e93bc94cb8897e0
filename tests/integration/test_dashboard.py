"""The dashboard at `/` in a real browser: headless Chromium (Debian's `chromium` with its
`chromium-driver`, driven through selenium) logs in, watches numbers that pika and redis-py
change appear on the page, purges a queue from the page, browses Redis keys; each test saves
screenshots (build/artifacts/dashboard/, or $YIZHAN_ARTIFACTS/dashboard/). A machine without
chromium fails these tests: it is not a reason to skip them.

Waits are for the page to show a state (WebDriverWait polls the DOM); nothing asserts a time.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import pathlib
import shutil
import tomllib
from urllib.parse import urlencode

import pika
import pytest
import redis
import requests
from hypothesis import HealthCheck, given, settings, strategies as st
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import yizhan
from yizhan.management import dashboard
from yizhan.management.api import ManagementAPI
from yizhan.management.http import Request

AUTH = ("guest", "guest")
WAIT_SECONDS = 30  # an upper bound for the page to catch up, never a measured time
ROOT = pathlib.Path(__file__).resolve().parents[2]


def artifacts_dir() -> pathlib.Path:
    base = pathlib.Path(os.environ.get("YIZHAN_ARTIFACTS", ROOT / "build" / "artifacts"))
    path = base / "dashboard"
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.fail("the dashboard tests need Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver; scripts/test.sh installs them)")
    return browser, driver


@pytest.fixture(scope="module")
def browser():
    binary, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1600", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def server(tmp_path):
    with yizhan.Server(http_port=0, data_dir=str(tmp_path / "data"), save="") as srv:
        yield srv


@pytest.fixture
def page(browser, server, request):
    """The dashboard logged in as guest; afterwards a screenshot and no script errors."""
    log_in(browser, server, "guest", "guest")
    yield browser
    shot(browser, request.node.name + "-end")
    log_out_checking_errors(browser)


def log_in(browser, srv, username: str, password: str) -> None:
    browser.get(srv.http_url + "/")
    wait_for(browser, lambda: browser.find_element(By.ID, "login-username").is_displayed())
    browser.find_element(By.ID, "login-username").send_keys(username)
    browser.find_element(By.ID, "login-password").send_keys(password)
    browser.find_element(By.ID, "login-button").click()
    wait_for(browser, lambda: text(browser, "total-queues") not in ("", "–"))


def log_out_checking_errors(browser) -> None:
    """No script error happened (failed requests are the page's to show, not errors here)."""
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]
    browser.execute_script("sessionStorage.clear()")
    assert errors == []


def wait_for(browser, condition, message: str = ""):
    def check(_):
        try:
            return condition()
        except StaleElementReferenceException:  # the table was redrawn under us: look again
            return False
    return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.1).until(check, message)


def settled(read):
    """`read()` again while the table it reads is redrawn under it (each refresh replaces a
    table's body, so an element found a moment ago can go stale); a bounded number of tries."""
    for _ in range(50):
        try:
            return read()
        except StaleElementReferenceException:
            continue
    return read()


def click(browser, css: str) -> None:
    settled(lambda: browser.find_element(By.CSS_SELECTOR, css).click())


def rows_attribute(browser, css: str, name: str) -> list:
    return settled(lambda: [r.get_attribute(name) for r in browser.find_elements(By.CSS_SELECTOR, css)])


def rows_text(browser, css: str) -> list:
    return settled(lambda: [r.text for r in browser.find_elements(By.CSS_SELECTOR, css)])


def text(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def shot(browser, name: str) -> pathlib.Path:
    path = artifacts_dir() / f"{name}.png"
    assert browser.save_screenshot(str(path)), path
    return path


def open_tab(browser, tab: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f'#tabs a[data-tab="{tab}"]').click()
    wait_for(browser, lambda: browser.find_element(By.ID, "view-" + tab).is_displayed())


def queue_cell(browser, queue: str, column: str) -> str:
    def read():
        rows = browser.find_elements(By.CSS_SELECTOR, f'#queues-table tbody tr[data-queue="{queue}"]')
        return rows[0].find_element(By.CSS_SELECTOR, "td." + column).text if rows else ""
    return settled(read)


def amqp_channel(srv):
    connection = pika.BlockingConnection(pika.URLParameters(srv.amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    return connection, channel


# -- in the browser -----------------------------------------------------------------------------
def test_overview_shows_live_numbers(page, server):
    assert text(page, "total-connections") == "0" and text(page, "total-ready") == "0"
    connection, channel = amqp_channel(server)
    channel.queue_declare("live")
    for i in range(3):
        channel.basic_publish("", "live", b"m%d" % i)
    wait_for(page, lambda: text(page, "total-ready") == "3", "ready count never reached 3")
    assert text(page, "total-connections") == "1"
    assert text(page, "total-channels") == "1"
    chart = page.execute_script("const c = LineChart && document.getElementById('chart-queued');"
                                " return c.toDataURL().length")
    assert chart > 1000  # the canvas has been drawn on
    rates = page.execute_script(  # rates from `*_details.rate`, else from two counter samples
        "const saved = state.lastStats; state.lastStats = null;"
        "const first = messageRates({publish: 10, deliver_get: 4}, 1000);"
        "const second = messageRates({publish: 30, deliver_get: 2, ack_details: {rate: 2.5}}, 3000);"
        "state.lastStats = saved; return [first, second];")
    assert rates == [[None, None, None, None], [10, 0, 2.5, None]]
    shot(page, "overview")
    for i in range(4):
        channel.basic_publish("", "live", b"n%d" % i)
    wait_for(page, lambda: text(page, "total-ready") == "7", "ready count never reached 7")
    open_tab(page, "queues")
    wait_for(page, lambda: queue_cell(page, "live", "messages") == "7")
    assert queue_cell(page, "live", "ready") == "7" and queue_cell(page, "live", "consumers") == "0"
    shot(page, "queues")
    connection.close()
    open_tab(page, "overview")
    wait_for(page, lambda: text(page, "total-connections") == "0", "the closed connection stayed")


def test_purge_from_the_page_empties_the_queue(page, server):
    connection, channel = amqp_channel(server)
    channel.queue_declare("to-purge", durable=True)
    channel.queue_bind("to-purge", "amq.topic", "jobs.#")
    for i in range(5):
        channel.basic_publish("amq.topic", "jobs.new", b"job %d" % i)
    open_tab(page, "queues")
    wait_for(page, lambda: queue_cell(page, "to-purge", "messages") == "5")
    click(page, '#queues-table tbody tr[data-queue="to-purge"]')
    wait_for(page, lambda: text(page, "queue-detail-name") == "to-purge")
    wait_for(page, lambda: "jobs.#" in text(page, "queue-bindings"))
    assert "amq.topic" in text(page, "queue-bindings")
    shot(page, "queue-detail")
    page.find_element(By.ID, "purge-button").click()
    wait_for(page, lambda: text(page, "queue-action-result") == "Queue purged.")
    wait_for(page, lambda: queue_cell(page, "to-purge", "messages") == "0")
    assert channel.queue_declare("to-purge", passive=True).method.message_count == 0
    channel.basic_qos(prefetch_count=7)
    channel.basic_consume("to-purge", lambda *a: None, consumer_tag="page-watcher")
    wait_for(page, lambda: "page-watcher" in text(page, "queue-consumers"))
    consumer = rows_text(page, "#queue-consumers tbody tr")[0]
    assert consumer.endswith("page-watcher true false 7")
    shot(page, "queue-purged")
    connection.close()


def test_publish_and_get_from_the_page(page, server):
    connection, channel = amqp_channel(server)
    channel.queue_declare("inbox")
    open_tab(page, "queues")
    wait_for(page, lambda: queue_cell(page, "inbox", "messages") == "0")
    click(page, '#queues-table tbody tr[data-queue="inbox"]')
    wait_for(page, lambda: text(page, "queue-detail-name") == "inbox")
    form = page.find_element(By.ID, "queue-publish")
    form.find_element(By.NAME, "payload").send_keys("hello from the page")
    form.find_element(By.NAME, "persistent").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(page, lambda: text(page, "queue-action-result") == "Message published.")
    wait_for(page, lambda: queue_cell(page, "inbox", "messages") == "1")
    method, properties, body = channel.basic_get("inbox", auto_ack=False)
    assert body == b"hello from the page" and method.routing_key == "inbox"
    assert properties.delivery_mode == 2
    channel.basic_nack(method.delivery_tag, requeue=True)
    form = page.find_element(By.ID, "queue-get")
    form.find_element(By.CSS_SELECTOR, 'select[name="ackmode"] option[value="ack_requeue_false"]').click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(page, lambda: "hello from the page" in text(page, "queue-get-result"))
    assert "Redelivered\ntrue" in text(page, "queue-get-result")
    assert "Properties\ndelivery_mode: 2" in text(page, "queue-get-result")
    assert text(page, "queue-action-result") == ""
    wait_for(page, lambda: queue_cell(page, "inbox", "messages") == "0")
    assert channel.queue_declare("inbox", passive=True).method.message_count == 0
    shot(page, "queue-publish-get")
    connection.close()


def test_connections_tab_lists_and_closes_a_pika_connection(page, server):
    connection, channel = amqp_channel(server)
    open_tab(page, "connections")
    rows = "#connections-table tbody tr"
    wait_for(page, lambda: page.find_elements(By.CSS_SELECTOR, rows))
    cells = rows_text(page, rows + " td")
    assert cells[1:3] == ["/", "guest"] and cells[3].startswith("Pika Python Client Library")
    assert cells[4:7] == ["running", "1", "AMQP 0-9-1"]
    shot(page, "connections")
    click(page, rows + " button.close-connection")
    wait_for(page, lambda: text(page, "connections-result").endswith("closed."))
    wait_for(page, lambda: not page.find_elements(By.CSS_SELECTOR, rows))
    with pytest.raises(pika.exceptions.ConnectionClosed) as closed:
        connection.process_data_events(time_limit=5)
    assert closed.value.reply_code == 320


def test_redis_panel_shows_a_key_set_with_redis_py(page, server):
    client = redis.Redis(port=server.port)
    client.config_set("slowlog-log-slower-than", 0)  # every command goes to the slow log
    client.set("dashboard:greeting", "hello from redis-py")
    client.rpush("dashboard:list", *[b"item-%d" % i for i in range(150)])
    client.set("dashboard:session", "x", ex=600)
    open_tab(page, "redis")
    wait_for(page, lambda: page.find_elements(By.CSS_SELECTOR, '#redis-keyspace tr[data-db="0"] td.keys')
             and page.find_element(By.CSS_SELECTOR, '#redis-keyspace tr[data-db="0"] td.keys').text == "3")
    assert text(page, "redis-clients") == "1"
    wait_for(page, lambda: "SET dashboard:greeting hello from redis-py" in text(page, "redis-slowlog"))
    wait_for(page, lambda: "Role\nmaster, 0 replicas" in text(page, "redis-server"))
    assert f"Port\n{server.port}" in text(page, "redis-server")
    page.find_element(By.ID, "redis-match").clear()
    page.find_element(By.ID, "redis-match").send_keys("dashboard:*")
    page.find_element(By.ID, "redis-scan").click()
    row = '#redis-keys tbody tr[data-name="dashboard:greeting"]'
    wait_for(page, lambda: page.find_elements(By.CSS_SELECTOR, row))
    types = dict(zip(rows_attribute(page, "#redis-keys tbody tr", "data-name"),
                     rows_text(page, "#redis-keys tbody tr td.type")))
    assert types == {"dashboard:greeting": "string", "dashboard:list": "list", "dashboard:session": "string"}
    ttl = rows_text(page, '#redis-keys tr[data-name="dashboard:session"] td.ttl')[0]
    assert 0 < int(ttl) <= 600_000
    click(page, row)
    wait_for(page, lambda: text(page, "redis-preview-name") == "dashboard:greeting")
    assert text(page, "redis-preview-value") == "hello from redis-py"
    click(page, '#redis-keys tbody tr[data-name="dashboard:list"]')
    wait_for(page, lambda: text(page, "redis-preview-name") == "dashboard:list")
    assert "item-99" in text(page, "redis-preview-value")
    assert "item-100" not in text(page, "redis-preview-value")
    assert "cut short" in text(page, "redis-preview-value")
    other_db = redis.Redis(port=server.port, db=5)
    other_db.set("in-db5", "five")
    db5 = '#redis-keyspace tr[data-db="5"]'
    wait_for(page, lambda: page.find_elements(By.CSS_SELECTOR, db5))
    page.find_element(By.ID, "redis-match").clear()
    click(page, db5)  # a database's row browses it
    wait_for(page, lambda: [r.get_attribute("data-name") for r in
                            page.find_elements(By.CSS_SELECTOR, "#redis-keys tbody tr")] == ["in-db5"])
    client.set("dashboard:another", "1")
    wait_for(page, lambda: page.find_element(By.CSS_SELECTOR, '#redis-keyspace tr[data-db="0"] td.keys').text == "4")
    shot(page, "redis")


def test_queue_list_pages_and_filters(page, server):
    connection, channel = amqp_channel(server)
    for i in range(120):
        channel.queue_declare(f"q-{i:03d}")
    open_tab(page, "queues")
    rows = "#queues-table tbody tr"
    summary = 'form.pager[data-list="queues"] [data-role="summary"]'
    wait_for(page, lambda: page.find_element(By.CSS_SELECTOR, summary).text == "Page 1 of 2 · 120 shown of 120")
    names = rows_attribute(page, rows, "data-queue")
    assert names == [f"q-{i:03d}" for i in range(100)]
    click(page, 'form.pager[data-list="queues"] [data-step="1"]')
    wait_for(page, lambda: page.find_element(By.CSS_SELECTOR, summary).text.startswith("Page 2 of 2"))
    wait_for(page, lambda: len(page.find_elements(By.CSS_SELECTOR, rows)) == 20)
    page.find_element(By.CSS_SELECTOR, 'form.pager[data-list="queues"] input[name="name"]').send_keys("q-11")
    wait_for(page, lambda: page.find_element(By.CSS_SELECTOR, summary).text == "Page 1 of 1 · 10 shown of 120")
    names = rows_attribute(page, rows, "data-queue")
    assert names == [f"q-{i}" for i in range(110, 120)]
    click(page, 'form.pager[data-list="queues"] input[name="regex"]')
    page.find_element(By.CSS_SELECTOR, 'form.pager[data-list="queues"] input[name="name"]').send_keys("9$")
    wait_for(page, lambda: page.find_element(By.CSS_SELECTOR, summary).text == "Page 1 of 1 · 1 shown of 120")
    assert rows_attribute(page, rows, "data-queue") == ["q-119"]
    shot(page, "queues-filtered")
    connection.close()


def test_exchange_drill_down_shows_bindings_both_ways(page, server):
    connection, channel = amqp_channel(server)
    channel.exchange_declare("orders", "topic", durable=True)
    channel.exchange_declare("audit-in", "fanout")
    channel.queue_declare("billing")
    channel.queue_bind("billing", "orders", "order.paid")
    channel.exchange_bind("audit-in", "orders", "order.#")
    channel.exchange_bind("orders", "amq.direct", "incoming")
    open_tab(page, "exchanges")
    row = '#exchanges-table tbody tr[data-exchange="orders"]'
    wait_for(page, lambda: page.find_elements(By.CSS_SELECTOR, row))
    assert rows_text(page, row)[0].split()[-2:] == ["topic", "D"]
    click(page, row)
    wait_for(page, lambda: "billing" in text(page, "exchange-bindings-source"))
    source = rows_text(page, "#exchange-bindings-source tbody tr")
    assert sorted(source) == ["audit-in exchange order.#", "billing queue order.paid"]
    destination = rows_text(page, "#exchange-bindings-destination tbody tr")
    assert destination == ["amq.direct incoming"]
    shot(page, "exchange-detail")
    connection.close()


def test_management_user_sees_amqp_but_not_the_redis_panel(browser, server):
    add_user(server, "manager", "management")
    log_in(browser, server, "manager", "pw")
    wait_for(browser, lambda: "monitoring or administrator" in text(browser, "overview-redis-note"))
    connection, channel = amqp_channel(server)
    channel.queue_declare("visible")
    open_tab(browser, "queues")
    wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, '#queues-table tr[data-queue="visible"]'))
    click(browser, '#queues-table tr[data-queue="visible"]')
    wait_for(browser, lambda: text(browser, "queue-detail-name") == "visible")
    assert not browser.find_element(By.ID, "queue-purge").is_displayed()  # administrators only
    open_tab(browser, "redis")
    assert not browser.find_element(By.ID, "redis-browser").is_displayed()
    open_tab(browser, "overview")
    wait_for(browser, lambda: "monitoring or administrator" in text(browser, "overview-redis-note"))
    assert browser.find_element(By.ID, "app").is_displayed()  # still logged in
    assert text(browser, "whoami") == "manager"
    shot(browser, "management-user")
    connection.close()
    log_out_checking_errors(browser)


def test_page_loads_without_auth_and_refuses_bad_login(browser, server):
    browser.get(server.http_url + "/")
    wait_for(browser, lambda: browser.find_element(By.ID, "login-username").is_displayed())
    browser.find_element(By.ID, "login-username").send_keys("guest")
    browser.find_element(By.ID, "login-password").send_keys("wrong")
    browser.find_element(By.ID, "login-button").click()
    wait_for(browser, lambda: text(browser, "login-error") == "Login failed")
    assert not browser.find_element(By.ID, "app").is_displayed()
    shot(browser, "login-refused")


# -- the files and the Redis JSON endpoints, over plain HTTP -----------------------------------
def test_static_files_need_no_auth_and_only_get(server):
    page = requests.get(server.http_url + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/dashboard.js" in page.text
    for path in ("/static/dashboard.js", "/static/chart.js", "/static/dashboard.css"):
        assert requests.get(server.http_url + path).status_code == 200
    assert requests.head(server.http_url + "/").content == b""
    assert requests.post(server.http_url + "/").status_code == 405
    assert requests.get(server.http_url + "/static/missing.js").status_code == 404
    assert requests.get(server.http_url + "/static/../dashboard.py").status_code == 404
    metrics_port = f"http://127.0.0.1:{server.metrics_port}/"
    assert requests.get(metrics_port).status_code == 404  # the page is on the management port only


def add_user(srv, name: str, tag: str) -> None:
    broker = srv.runtime.broker
    srv.call(broker.add_user, name, "pw", ("/",))
    srv.call(setattr, broker.users[name], "tags", [tag])


def test_redis_endpoints_need_auth_and_tags(server):
    base = server.http_url + "/api/yizhan/redis"
    assert requests.get(base).status_code == 401
    assert requests.get(base, auth=("guest", "nope")).status_code == 401
    add_user(server, "watcher", "monitoring")
    add_user(server, "manager", "management")
    assert requests.get(base, auth=("watcher", "pw")).status_code == 200
    assert requests.get(base, auth=("manager", "pw")).status_code == 401
    assert requests.get(base + "/keys", auth=("watcher", "pw")).status_code == 401  # values: admins only
    assert requests.get(base + "/keys", auth=AUTH).status_code == 200


def test_redis_json_reads_without_touching_keys(server):
    client = redis.Redis(port=server.port)
    client.set(b"bin\xff\x00key", b"\x00\x01v")
    client.zadd("z", {"a": 1.5, "b": float("inf")})
    client.hset("h", mapping={"f%d" % i: i for i in range(120)})
    client.xadd("s", {"k": "v"})
    client.config_set("slowlog-log-slower-than", 0)
    client.ping()
    before = client.info("stats")
    panel = requests.get(server.http_url + "/api/yizhan/redis", auth=AUTH).json()
    assert panel["keyspace"] == [{"db": 0, "keys": 4, "expires": 0, "avg_ttl": 0}]
    assert panel["clients"]["connected_clients"] == 1 and panel["databases"] == 16
    logged = client.slowlog_get(32)  # the same entries: the panel's read is no command
    assert [(e["id"], e["command"].decode()) for e in logged] == \
        [(e["id"], " ".join(e["args"])) for e in panel["slowlog"]]
    assert panel["slowlog"][0]["args"] == ["INFO", "stats"]
    assert panel["slowlog_len"] == len(logged)
    keys = requests.get(server.http_url + "/api/yizhan/redis/keys", params={"count": 1000}, auth=AUTH).json()
    assert keys["cursor"] == "0"
    by_name = {k["name"]: k for k in keys["keys"]}
    assert set(by_name) == {"bin\\xff\\x00key", "z", "h", "s"}
    assert by_name["z"]["type"] == "zset" and by_name["s"]["type"] == "stream"
    previews = {}
    for name, row in by_name.items():
        reply = requests.get(server.http_url + "/api/yizhan/redis/key", params={"key": row["key"]}, auth=AUTH)
        previews[name] = reply.json()
    assert previews["bin\\xff\\x00key"]["preview"] == "\\x00\\x01v"
    assert previews["z"]["preview"] == [["a", "1.5"], ["b", "inf"]]
    assert previews["h"]["length"] == 120 and len(previews["h"]["preview"]) == 100
    assert previews["h"]["truncated"] is True
    assert previews["s"]["preview"][0][1] == ["k", "v"]
    after = client.info("stats")
    for field in ("keyspace_hits", "keyspace_misses"):  # the dashboard's looks are not lookups
        assert after[field] == before[field]
    assert client.object("idletime", "z") >= 0
    missing = requests.get(server.http_url + "/api/yizhan/redis/key", params={"key": "bm9uZQ=="}, auth=AUTH)
    assert missing.status_code == 404


def test_redis_key_browser_is_bounded(server):
    client = redis.Redis(port=server.port)
    client.mset({f"k{i}": i for i in range(2500)})
    url = server.http_url + "/api/yizhan/redis/keys"
    for bad in ({"count": 0}, {"count": 1001}, {"db": 16}, {"db": "x"}, {"cursor": "-1"},
                {"cursor": str(1 << 64)}):
        reply = requests.get(url, params=bad, auth=AUTH)
        assert reply.status_code == 400 and reply.json()["error"] == "bad_request"
    seen, cursor, steps = set(), "0", 0
    while True:
        page = requests.get(url, params={"cursor": cursor, "count": 1000, "match": "k1*"}, auth=AUTH).json()
        assert len(page["keys"]) <= 1100  # a step is at most about `count` keys
        seen |= {k["name"] for k in page["keys"]}
        cursor, steps = page["cursor"], steps + 1
        if cursor == "0":
            break
    assert seen == {f"k{i}" for i in range(2500) if str(i).startswith("1")}
    assert steps > 1
    bad_key = requests.get(server.http_url + "/api/yizhan/redis/key", params={"key": "%%%"}, auth=AUTH)
    assert bad_key.status_code == 400


def test_every_dashboard_file_is_package_data():
    """pyproject's package-data pattern takes every file the page serves into the wheel."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        patterns = tomllib.load(file)["tool"]["setuptools"]["package-data"]["yizhan.management"]
    static = ROOT / "src" / "yizhan" / "management" / "static"
    served = {name for name, _ in dashboard.FILES.values()}
    assert served == {p.name for p in static.iterdir()}
    for name in served:
        assert any(fnmatch.fnmatch("static/" + name, pattern) for pattern in patterns), name


PARAM_VALUES = ["", "0", "1", "15", "16", "-1", "x", "99999999999999999999999", "1e3", "٣", "%00",
                "*", "k*", "[", "\\", "AAAA", "aGFzaA==", "bGlzdA==", "!!", "18446744073709551615"]


def test_random_requests_to_the_dashboard_and_redis_panel(server):
    """`Site.handle` (sans-IO, on the server's loop) answers every request with one of the API's
    statuses, and every 200 from the Redis endpoints is JSON."""
    client = redis.Redis(port=server.port)
    client.set("string", "v")
    client.rpush("list", *range(300))
    client.hset("hash", mapping={"f": "v"})
    client.zadd("zset", {"m": 1})
    client.sadd("set", "a")
    client.xadd("stream", {"f": "v"})
    site = dashboard.Site(ManagementAPI(server.runtime))
    auth = {"authorization": "Basic " + base64.b64encode(b"guest:guest").decode()}
    segments = st.lists(st.sampled_from(["api", "yizhan", "redis", "keys", "key", "static", "",
                                         "dashboard.js", "index.html", "..", "favicon.ico"]), max_size=4)
    params = st.dictionaries(st.sampled_from(["db", "cursor", "count", "match", "key"]),
                             st.sampled_from(PARAM_VALUES), max_size=5)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["GET", "HEAD", "POST", "DELETE"]), segments, params, st.booleans())
    def check(method, path, query, authenticated):
        target = "/" + "/".join(path) + ("?" + urlencode(query) if query else "")
        request = Request(method, target, auth if authenticated else {}, b"", "127.0.0.1")
        response = server.call(site.handle, request)
        assert response.status in {200, 204, 400, 401, 404, 405}, (target, response)
        if response.status == 200 and target.startswith("/api/yizhan/") and method == "GET":
            reply = json.loads(response.body)
            if "preview" in reply:
                assert len(reply["preview"]) <= dashboard.PREVIEW_ITEMS or reply["type"] == "string"

    check()
    assert client.llen("list") == 300
