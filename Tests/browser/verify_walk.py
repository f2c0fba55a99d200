"""Walks email verification in headless Chromium: from an expired link to a completed cancellation.

Run by CancelflowAppTests.BrowserTests against a real `cancelflow serve` with no mail server, in
test mode, as a newcomer would: reads CANCELFLOW_BASE_URL, CANCELFLOW_APP_ID, CANCELFLOW_API_KEY and
SCREENSHOT_DIR. Pushes a customer, mints a Cancel Link and revokes it, opens it (the expired
screen), follows "Continue with email verification", asks for a code, reads it on /dev/mailbox,
enters it, and cancels. Checks through the API that the subscription is cancelled. Saves a
screenshot of every step; exits non-zero with a message on the first thing that is wrong.
"""
import datetime
import json
import os
import re
import sys

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from walk_support import api, browser, click, expect, shot, wait_for  # noqa: E402

BASE = os.environ["CANCELFLOW_BASE_URL"]
SHOTS = os.environ["SCREENSHOT_DIR"]
os.makedirs(SHOTS, exist_ok=True)

api("PUT", "/v1/customers/cus_mail", {"email": "grace@example.com", "name": "Grace"})
api("PUT", "/v1/customers/cus_mail/subscriptions/sub_mail",
    {"status": "active", "planName": "Team", "amount": 4900, "currency": "usd", "interval": "month"})
expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
link = api("POST", "/v1/cancel-sessions", {"customerId": "cus_mail", "expiresAt": expires})
api("POST", "/v1/cancel-sessions/" + link["id"] + "/revoke")

driver = browser()
try:
    driver.get(link["url"])
    wait_for(driver, "This link has expired", "a revoked link did not show the expired screen")
    shot(driver, "v1-expired")
    click(driver, "Continue with email verification")
    wait_for(driver, "Email address", "no email form after the expired screen")
    expect("/verify?org=app_test_" in driver.current_url, "the verify page lost the organization: " + driver.current_url)
    shot(driver, "v2-email")
    driver.find_element(By.ID, "email").send_keys("Grace@Example.com")
    click(driver, "Email me a code")
    wait_for(driver, "Check your email", "no code form after asking for a code")
    shot(driver, "v3-code")
    code_page = driver.current_url

    click(driver, "Open the test mailbox")
    wait_for(driver, "Test mailbox", "no test mailbox")
    shot(driver, "v4-mailbox")
    match = re.search(r"\b(\d{6}) is your .* verification code", driver.find_element(By.TAG_NAME, "body").text)
    expect(match, "no code on the mailbox page")
    driver.get(code_page)
    wait_for(driver, "Check your email", "the code page did not come back")
    driver.find_element(By.ID, "code").send_keys(match.group(1))
    click(driver, "Continue")

    wait_for(driver, "Why are you leaving?", "no survey after the right code")
    shot(driver, "v5-survey")
    driver.find_element(By.CSS_SELECTOR, "label[for=reason-1]").click()
    click(driver, "Continue")
    wait_for(driver, "Before you go", "no offer step")
    click(driver, "No thanks, continue to cancel")
    wait_for(driver, "Confirm cancellation", "no confirmation step")
    click(driver, "Cancel my subscription")
    wait_for(driver, "Your subscription is cancelled", "no confirmation of the cancellation")
    shot(driver, "v6-done")
finally:
    driver.quit()

subscription = api("GET", "/v1/customers/cus_mail")["subscriptions"][0]
expect(subscription["cancelAtPeriodEnd"] is True, f"subscription not cancelled: {subscription}")
print(json.dumps({"ok": True, "screenshots": sorted(os.listdir(SHOTS))}))
