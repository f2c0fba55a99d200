"""Walks the hosted cancel flow in headless Chromium for an organization on Stripe.

Run by CancelflowAppTests.BrowserTests against a real `cancelflow serve` whose test mode is
configured for a localstripe stand-in (Tests/billing/localstripe_plus.py). Reads
CANCELFLOW_BASE_URL, CANCELFLOW_APP_ID, CANCELFLOW_API_KEY, SCREENSHOT_DIR, STRIPE_BASE and
STRIPE_KEY from the environment. Creates a Stripe customer with two subscriptions at the stand-in,
mints a link for the customer, picks the second subscription in the browser, answers the survey,
declines the offer and confirms; then reads back from the stand-in that exactly that subscription
is set to cancel at the period end, with the survey answer. Exits non-zero with a message on the
first thing that is wrong.
"""
import datetime
import json
import os
import sys
import urllib.parse
import urllib.request

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from walk_support import BASE, api, browser, click, expect, shot, wait_for  # noqa: E402

SHOTS = os.environ["SCREENSHOT_DIR"]
os.makedirs(SHOTS, exist_ok=True)
STRIPE = os.environ["STRIPE_BASE"]
KEY = os.environ["STRIPE_KEY"]


def stripe(method, path, fields=None):
    """One form-encoded call to the stand-in, as Stripe's API takes them."""
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    request = urllib.request.Request(STRIPE + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + KEY})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


card = stripe("POST", "/v1/payment_methods", {"type": "card", "card[number]": "4242424242424242",
                                               "card[exp_month]": "12", "card[exp_year]": "2030",
                                               "card[cvc]": "123"})
customer = stripe("POST", "/v1/customers", {"email": "grace@example.com", "name": "Grace",
                                            "payment_method": card["id"],
                                            "invoice_settings[default_payment_method]": card["id"]})
subscriptions = []
for plan, nickname, amount in [("basic", "Basic Monthly", 900), ("premium", "Premium Monthly", 2900)]:
    stripe("POST", "/v1/products", {"id": "prod_" + plan, "name": nickname})
    stripe("POST", "/v1/plans", {"id": plan, "product": "prod_" + plan, "amount": amount,
                                 "currency": "usd", "interval": "month", "nickname": nickname})
    subscriptions.append(stripe("POST", "/v1/subscriptions",
                                {"customer": customer["id"], "items[0][plan]": plan})["id"])

expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
link = api("POST", "/v1/cancel-sessions", {"customerId": customer["id"], "expiresAt": expires})
expect(link["url"].startswith(BASE + "/cancel/cl_"), f"unexpected url {link['url']}")

driver = browser()
try:
    driver.get(link["url"])
    body = driver.find_element(By.TAG_NAME, "body").text
    expect("Grace" in body, "landing does not greet the Stripe customer: " + body[:200])
    shot(driver, "s1-landing")
    click(driver, "Continue to cancel")
    wait_for(driver, "Which subscription do you want to cancel?", "no choice between the two subscriptions")
    expect("Basic Monthly" in driver.page_source and "Premium Monthly" in driver.page_source,
           "the Stripe plans are not listed")
    shot(driver, "s2-choose")
    chosen = subscriptions[1]
    driver.find_element(By.CSS_SELECTOR, f"input[value='{chosen}']").click()
    click(driver, "Continue")
    wait_for(driver, "Why are you leaving?", "no survey after the choice")
    driver.find_element(By.CSS_SELECTOR, "label[for=reason-2]").click()
    driver.find_element(By.ID, "comment").send_keys("Needs SSO")
    click(driver, "Continue")
    wait_for(driver, "Before you go", "no offer step")
    click(driver, "No thanks, continue to cancel")
    wait_for(driver, "Confirm cancellation", "no confirmation step")
    shot(driver, "s3-confirm")
    click(driver, "Cancel my subscription")
    wait_for(driver, "Your subscription is cancelled", "no confirmation of the cancellation")
    shot(driver, "s4-done")
finally:
    driver.quit()

canceled = stripe("GET", "/v1/subscriptions/" + chosen)
expect(canceled["cancel_at_period_end"] is True, f"the chosen subscription is not set to cancel: {canceled}")
details = canceled.get("cancellation_details") or {}
expect(details.get("feedback") == "missing_features", f"survey not sent as feedback: {details}")
expect("Needs SSO" in (details.get("comment") or ""), f"comment not sent: {details}")
other = stripe("GET", "/v1/subscriptions/" + subscriptions[0])
expect(other["cancel_at_period_end"] is False, "the other subscription was changed too")

print(json.dumps({"ok": True, "link": link["id"], "canceled": chosen, "screenshots": sorted(os.listdir(SHOTS))}))
