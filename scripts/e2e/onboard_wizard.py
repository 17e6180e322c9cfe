"""Completes the sign-up wizard in headless Chromium and checks the key it shows works."""
import json
import os
import re
import sys
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["BOOKLINE_URL"]


def driver():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1000"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    browser = driver()
    wait = WebDriverWait(browser, 15)
    try:
        browser.get(BASE + "/onboard")
        type_in = lambda field, text: browser.find_element(By.ID, field).send_keys(text)
        nxt = lambda: browser.find_element(By.ID, "next").click()

        # Client-side validation blocks an empty first step and names the field.
        nxt()
        assert "Enter your business name" in browser.find_element(By.ID, "businessName-error").text

        type_in("businessName", "Wizard Dental")
        Select(browser.find_element(By.ID, "industry")).select_by_value("dental")
        nxt()
        wait.until(ec.visibility_of_element_located((By.ID, "email")))
        type_in("email", "wizard@example.com")
        type_in("phone", "07400 100456")
        nxt()
        services = wait.until(ec.visibility_of_element_located((By.ID, "services")))
        wait.until(lambda _: "Check-up" in services.get_attribute("value"))  # pre-filled from /api/industries
        nxt()
        wait.until(ec.visibility_of_element_located((By.ID, "password")))
        type_in("password", "short")
        nxt()
        assert "at least 12" in browser.find_element(By.ID, "password-error").text
        browser.find_element(By.ID, "password").clear()
        type_in("password", "wizard-password-2024")
        type_in("passwordConfirm", "wizard-password-2024")
        nxt()
        wait.until(ec.visibility_of_element_located((By.ID, "review")))
        assert "Wizard Dental" in browser.find_element(By.ID, "review").text
        nxt()

        key_node = wait.until(ec.visibility_of_element_located((By.ID, "api-key")))
        key = key_node.text
        assert re.fullmatch(r"bk_live_[0-9A-Za-z]{38}", key), key
        assert browser.find_element(By.ID, "copy-key").is_displayed()
        assert browser.find_element(By.ID, "dashboard-link").get_attribute("href").endswith("/dashboard")

        request = urllib.request.Request(BASE + "/api/me", headers={"Authorization": "Bearer " + key})
        me = json.load(urllib.request.urlopen(request))
        assert me["tenant"]["slug"] == "wizard-dental", me

        # A second sign-up with the same email shows the server's error next to the email field.
        browser.get(BASE + "/onboard")
        type_in("businessName", "Wizard Two")
        Select(browser.find_element(By.ID, "industry")).select_by_value("generic")
        nxt()
        wait.until(ec.visibility_of_element_located((By.ID, "email")))
        type_in("email", "wizard@example.com")
        type_in("phone", "07400 100457")
        nxt()
        wait.until(ec.visibility_of_element_located((By.ID, "services")))
        nxt()
        wait.until(ec.visibility_of_element_located((By.ID, "password")))
        type_in("password", "wizard-password-2024")
        type_in("passwordConfirm", "wizard-password-2024")
        nxt()
        wait.until(ec.visibility_of_element_located((By.ID, "review")))
        nxt()
        error = wait.until(ec.visibility_of_element_located((By.ID, "email-error")))
        wait.until(lambda _: "already exists" in error.text)
        print("wizard: 1 passed, 0 failed")
    except Exception:
        browser.save_screenshot("/tmp/bookline-wizard-failure.png")
        raise
    finally:
        browser.quit()


if __name__ == "__main__":
    sys.exit(main())
