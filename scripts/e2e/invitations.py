"""Invitations and workspaces in headless Chromium, with the mail received by aiosmtpd: an owner
invites from the dashboard, a new address accepts on /invite by choosing a password and lands
in the dashboard with its role; a person who already signs in elsewhere accepts by signing in,
and the dashboard's workspace menu then switches between the two businesses. A spent link is
refused."""
from client import BASE, call, call_status, chrome, link_in, sign_in, wait_for_mail
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

SALON_OWNER, SALON_PASSWORD = "invite-owner@example.com", "invite-owner-password-1"
AGENCY_OWNER, AGENCY_PASSWORD = "agency-owner@example.com", "agency-owner-password-1"
NEW_HIRE, NEW_HIRE_PASSWORD = "new-hire@example.com", "new-hire-password-42"

salon = call("POST", "/api/clients/onboard", {"businessName": "Invite Check Salon", "email": SALON_OWNER,
                                              "phone": "+44 20 7946 0031", "industry": "dental", "password": SALON_PASSWORD})
agency = call("POST", "/api/clients/onboard", {"businessName": "Agency Check Ltd", "email": AGENCY_OWNER,
                                               "phone": "+44 20 7946 0032", "industry": "dental", "password": AGENCY_PASSWORD})

browser = chrome(1200)
try:
    # The owner invites from Settings > Users.
    wait = sign_in(browser, "/dashboard", SALON_OWNER, SALON_PASSWORD, "overview")
    browser.find_element(By.CSS_SELECTOR, "a[data-tab='settings-panel']").click()
    wait.until(lambda b: b.find_element(By.ID, "invite-form").is_displayed())
    browser.find_element(By.ID, "invite-email").send_keys(NEW_HIRE)
    Select(browser.find_element(By.ID, "invite-role")).select_by_visible_text("admin")
    browser.find_element(By.CSS_SELECTOR, "#invite-form button[type=submit]").click()
    wait.until(lambda b: "Invitation sent" in b.find_element(By.ID, "invite-sent").text)
    wait.until(lambda b: "pending" in b.find_element(By.ID, "invitations-table").text)
    mail = wait_for_mail(NEW_HIRE, "invited you to Invite Check Salon")
    link, token = link_in(mail, "/invite")
    browser.find_element(By.ID, "logout").click()
    wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())

    # A new address chooses a password and lands in the dashboard as an admin.
    browser.get(link)
    wait.until(lambda b: b.find_element(By.ID, "accept-form").is_displayed())
    assert "token=" not in browser.current_url, "the token stays in the address bar"
    assert "as admin" in browser.find_element(By.ID, "summary").text
    browser.find_element(By.ID, "new-password").send_keys(NEW_HIRE_PASSWORD)
    browser.find_element(By.ID, "new-password-again").send_keys(NEW_HIRE_PASSWORD)
    browser.find_element(By.ID, "accept-button").click()
    wait.until(lambda b: b.current_url.endswith("/dashboard") and b.find_element(By.ID, "overview").is_displayed())
    assert browser.find_element(By.ID, "business-name").text == "Invite Check Salon"
    hire = call("POST", "/api/auth/login", {"email": NEW_HIRE, "password": NEW_HIRE_PASSWORD})["accessToken"]
    me = call("GET", "/api/me", key=hire)
    assert me["role"] == "admin" and me["tenant"]["id"] == salon["tenantId"] and me["account"]["emailVerified"], me
    status, body = call_status("POST", "/api/auth/invitations/accept", {"token": token, "password": NEW_HIRE_PASSWORD})
    assert status == 422, ("a spent invitation worked again", status, body)
    browser.find_element(By.ID, "logout").click()
    wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())

    # The agency's owner already signs in: they join the salon with that login.
    owner = call("POST", "/api/auth/login", {"email": SALON_OWNER, "password": SALON_PASSWORD})["accessToken"]
    call("POST", "/api/invitations", {"email": AGENCY_OWNER, "role": "member"}, owner)
    link, _ = link_in(wait_for_mail(AGENCY_OWNER, "invited you to Invite Check Salon"), "/invite")
    browser.get(link)
    wait.until(lambda b: b.find_element(By.ID, "login-form").is_displayed())
    assert browser.find_element(By.ID, "email").get_attribute("value") == AGENCY_OWNER
    browser.find_element(By.ID, "password").send_keys(AGENCY_PASSWORD)
    browser.find_element(By.ID, "login-button").click()
    wait.until(lambda b: b.current_url.endswith("/dashboard") and b.find_element(By.ID, "overview").is_displayed())
    wait.until(lambda b: b.find_element(By.ID, "business-name").text == "Invite Check Salon")
    wait.until(lambda b: b.find_element(By.ID, "workspace-field").is_displayed())
    menu = Select(browser.find_element(By.ID, "workspace-select"))
    assert [o.text for o in menu.options] == ["Agency Check Ltd (owner)", "Invite Check Salon (member)"], [o.text for o in menu.options]
    menu.select_by_value(agency["tenantId"])
    wait.until(lambda b: b.find_element(By.ID, "business-name").text == "Agency Check Ltd")
    browser.refresh()  # the new session's cookie survives a reload, in the agency
    wait.until(lambda b: b.find_element(By.ID, "overview").is_displayed()
               and b.find_element(By.ID, "business-name").text == "Agency Check Ltd")
finally:
    browser.quit()
print("invitations: a new address joined through /invite with its role, an existing login joined signed in, "
      "the workspace menu switched businesses, a spent link was refused")
