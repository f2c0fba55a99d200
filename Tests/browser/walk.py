"""Walks the hosted cancel flow in headless Chromium, as a customer would.

Run by CancelflowAppTests.BrowserTests against a real `cancelflow serve`. Reads CANCELFLOW_BASE_URL,
CANCELFLOW_APP_ID, CANCELFLOW_API_KEY and SCREENSHOT_DIR from the environment; pushes a customer,
mints a Cancel Link through the API, walks landing -> survey -> offer declined -> confirm in one
browser, checks through the API that the subscription is cancelled and the link consumed, then
opens the same link in a fresh browser and expects the expired screen. Saves a screenshot of every
step. Exits non-zero with a message on the first thing that is wrong.
"""
import datetime
import json
import os
import sys

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from walk_support import BASE, api, browser, click, expect, shot, wait_for  # noqa: E402

SHOTS = os.environ["SCREENSHOT_DIR"]
os.makedirs(SHOTS, exist_ok=True)
api("PUT", "/v1/customers/cus_browser", {"email": "ada@example.com", "name": "Ada"})
api("PUT", "/v1/customers/cus_browser/subscriptions/sub_browser",
    {"status": "active", "planName": "Pro", "amount": 1200, "currency": "usd", "interval": "month",
     "currentPeriodEnd": "2027-01-01T00:00:00Z"})
expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
link = api("POST", "/v1/cancel-sessions", {"customerId": "cus_browser", "expiresAt": expires})
url = link["url"]
expect(url.startswith(BASE + "/cancel/cl_"), f"unexpected url {url}")

driver = browser()
try:
    driver.get(url)
    body = driver.find_element(By.TAG_NAME, "body").text
    expect("Hi Ada" in body and "Pro" in body, "landing does not greet the customer: " + body[:200])
    # Readable at 320 px: nothing wider than the viewport.
    driver.set_window_size(320, 700)
    overflow = driver.execute_script("return document.documentElement.scrollWidth")
    expect(overflow <= 320, f"the landing page scrolls sideways at 320 px ({overflow} px wide)")
    shot(driver, "01-landing-320px")
    driver.set_window_size(390, 844)
    shot(driver, "01-landing")
    expect(api("GET", "/v1/cancel-sessions/" + link["id"])["status"] == "active", "viewing the page consumed the link")

    click(driver, "Continue to cancel")
    wait_for(driver, "Why are you leaving?", "no survey after the exchange")
    expect("/flow" in driver.current_url and "/cancel/" not in driver.current_url, "the token stayed in the URL")
    shot(driver, "02-survey")
    driver.find_element(By.CSS_SELECTOR, "label[for=reason-0]").click()
    driver.find_element(By.ID, "comment").send_keys("Trying the browser walk")
    click(driver, "Continue")

    wait_for(driver, "Before you go", "no offer step")
    shot(driver, "03-offer")
    click(driver, "No thanks, continue to cancel")

    wait_for(driver, "Confirm cancellation", "no confirmation step")
    shot(driver, "04-confirm")
    click(driver, "Cancel my subscription")
    wait_for(driver, "Your subscription is cancelled", "no confirmation of the cancellation")
    shot(driver, "05-done")

    # Reloading in the same browser stays on the flow.
    driver.get(url)
    wait_for(driver, "Your subscription is cancelled", "the same browser lost its session")
finally:
    driver.quit()

customer = api("GET", "/v1/customers/cus_browser")
subscription = customer["subscriptions"][0]
expect(subscription["cancelAtPeriodEnd"] is True and subscription["canceledAt"], f"subscription not cancelled: {subscription}")
expect(api("GET", "/v1/cancel-sessions/" + link["id"])["status"] == "consumed", "link not consumed")

second = browser()
try:
    second.get(url)
    wait_for(second, "This link has expired", "a reused link did not show the expired screen")
    expect("/verify" in second.page_source, "the expired screen has no way forward")
    shot(second, "06-expired")
finally:
    second.quit()

print(json.dumps({"ok": True, "link": link["id"], "screenshots": sorted(os.listdir(SHOTS))}))
