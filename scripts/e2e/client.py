"""The small JSON client, staff accounts and headless Chromium the e2e scripts share."""
import json
import os
import subprocess
import urllib.request

BASE = os.environ["BOOKLINE_URL"]
BIN = os.environ.get("BOOKLINE_E2E_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/bookline"))


def call(method, path, body=None, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    request = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers=headers)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def staff_account(role, name=None):
    """A platform user made with the CLI, run where the server runs (same database and key)."""
    email, password = f"{name or role}@bookline.test", f"{name or role}-e2e-password-1"
    folder = os.path.dirname(os.environ["BOOKLINE_DB"]) if os.environ.get("BOOKLINE_DB") else None
    subprocess.run([BIN, "admin", "create", "--email", email, "--role", role], input=password + "\n", text=True,
                   check=True, capture_output=True, cwd=folder)
    return email, password


def staff_token(role, name=None):
    email, password = staff_account(role, name)
    return call("POST", "/api/auth/login", {"email": email, "password": password})["accessToken"], email, password


def chrome(width=1200):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={max(width, 500)},1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if width < 500:  # desktop Chrome will not make a window that narrow: emulate a phone
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": 800, "pixelRatio": 2}})
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def sign_in(browser, path, email, password, ready="console"):
    """Signs in on a page's own form and waits until the element `ready` shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    wait = WebDriverWait(browser, 15)
    browser.get(BASE + path)
    wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login-button").click()
    wait.until(lambda b: b.find_element(By.ID, ready).is_displayed())
    return wait


def call_status(method, path, body=None, key=None):
    """(status, parsed body) without raising on 4xx/5xx, for the refusals."""
    import urllib.error
    try:
        return 200, call(method, path, body, key)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw.decode("utf-8", "replace")}


def mails_to(address):
    """Every message the capture SMTP server holds for `address`, oldest first, parsed."""
    import email
    import email.policy
    import glob
    folder = os.environ["SMTP_CAPTURE_DIR"]
    paths = sorted(glob.glob(os.path.join(folder, "*.json")), key=lambda p: int(os.path.basename(p)[:-5]))
    found = []
    for path in paths:
        with open(path) as file:
            mail = json.load(file)
        if address in mail["rcpt_tos"]:
            found.append(email.message_from_string(mail["data"], policy=email.policy.default))
    return found


def wait_for_mail(address, subject, count=1, timeout=20):
    """The `count`-th message to `address` whose subject contains `subject` (waits for it)."""
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        matching = [m for m in mails_to(address) if subject in m["Subject"]]
        if len(matching) >= count:
            return matching[count - 1]
        time.sleep(0.1)
    raise AssertionError(f"no mail #{count} to {address} about {subject!r}; got {[m['Subject'] for m in mails_to(address)]}")


def link_in(message, page):
    """The link to `page` in both parts of an account mail (they must agree)."""
    import re
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    pattern = re.escape(BASE + page) + r"\?token=([A-Za-z0-9_\-]+)"
    in_plain, in_html = re.search(pattern, plain), re.search(pattern, html)
    assert in_plain and in_html, f"no {page} link in {plain!r}"
    assert in_plain.group(1) == in_html.group(1), "the text and HTML parts carry different links"
    return in_plain.group(0), in_plain.group(1)
