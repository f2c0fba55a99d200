"""Walks every offer type and every language of the hosted flow in headless Chromium.

Run by CancelflowAppTests.BrowserTests against a real `cancelflow serve` on the built-in billing
provider. Reads CANCELFLOW_BASE_URL, CANCELFLOW_APP_ID, CANCELFLOW_API_KEY, CANCELFLOW_LIVE_APP_ID,
CANCELFLOW_LIVE_API_KEY (publishing a flow needs a live key) and SCREENSHOT_DIR. Publishes a
default flow whose reasons each lead to one offer type, then, per offer type, walks a fresh
customer from the landing page to the offer and accepts it (declines the redirect, whose page is
outside this machine), checking the outcome through the API; then walks the flow in French,
German and Spanish (the link's `locale`) and once with a German browser and no locale, checking
`<html lang>` and that no English heading shows. Screenshots every page. Exits non-zero with a
message on the first thing that is wrong.
"""
import datetime
import json
import os
import sys
import urllib.request

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from walk_support import BASE, api, browser, click, expect, shot, wait_for  # noqa: E402

SHOTS = os.environ["SCREENSHOT_DIR"]
os.makedirs(SHOTS, exist_ok=True)
LIVE = {"x-ck-app": os.environ["CANCELFLOW_LIVE_APP_ID"], "x-ck-api-key": os.environ["CANCELFLOW_LIVE_API_KEY"]}

# (reason and offer id, the offer, the last page's heading once accepted; None: declined)
OFFERS = [
    ("pause", {"id": "pause", "type": "pause", "months": 2}, "Your subscription is paused"),
    ("discount", {"id": "discount", "type": "discount", "percent": 30, "months": 3}, "Your discount is applied"),
    ("plan_change", {"id": "plan_change", "type": "plan_change",
                     "plans": [{"id": "basic", "name": "Basic", "amount": 500, "currency": "eur"}]}, "Your plan is changed"),
    ("trial_extension", {"id": "trial_extension", "type": "trial_extension", "days": 14}, "Your free time is extended"),
    ("contact", {"id": "contact", "type": "contact", "email": "help@example.com"}, "here to help"),
    ("redirect", {"id": "redirect", "type": "redirect", "url": "https://help.example.com/billing"}, None),
]


def live(method, path, body=None):
    request = urllib.request.Request(BASE + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers=dict(LIVE, **{"Content-Type": "application/json"}))
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


flow = api("GET", "/v1/flows")["data"][0]
document = {
    "name": "Every offer",
    "survey": {"reasons": [{"id": key, "label": {"en": key.replace("_", " ").capitalize(), "fr": "Raison " + key,
                                                   "de": "Grund " + key, "es": "Motivo " + key}, "offer": key}
                           for key, _, _ in OFFERS]},
    "offers": [offer for _, offer, _ in OFFERS],
}
api("PUT", f"/v1/flows/{flow['id']}/draft", document)
live("POST", f"/v1/flows/{flow['id']}/publish")

expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def customer(name):
    api("PUT", f"/v1/customers/{name}", {"email": f"{name}@example.com", "name": "Ada"})
    api("PUT", f"/v1/customers/{name}/subscriptions/sub_{name}",
        {"status": "active", "planName": "Pro", "planId": "pro", "amount": 1200, "currency": "eur", "interval": "month",
         "currentPeriodEnd": "2027-01-01T00:00:00Z"})
    return api("POST", "/v1/cancel-sessions", {"customerId": name, "expiresAt": expires, **({"locale": locale} if (locale := LOCALES.get(name)) else {})})


def outcome(name):
    sessions = api("GET", f"/v1/cancel-sessions?customerId={name}")["data"]
    return sessions[0]["status"] if sessions else None


def lang(driver):
    return driver.execute_script("return document.documentElement.lang")


LOCALES = {"walk_fr": "fr", "walk_de": "de-DE", "walk_es": "es"}
driver = browser()
try:
    # Every offer type, accepted (the redirect declined), in English.
    for index, (key, _, expected) in enumerate(OFFERS, start=1):
        driver.delete_all_cookies()
        link = customer(f"offer_{key}")
        driver.get(link["url"])
        click(driver, "Continue to cancel")
        wait_for(driver, "Why are you leaving?", f"{key}: no survey")
        driver.find_element(By.CSS_SELECTOR, f"label[for=reason-{index - 1}]").click()
        click(driver, "Continue")
        wait_for(driver, "Before you go", f"{key}: no offer page")
        shot(driver, f"o{index}-{key}-offer")
        if expected is None:
            click(driver, "No thanks, continue to cancel")
            wait_for(driver, "Confirm cancellation", f"{key}: declining led nowhere")
            continue
        accept = driver.find_elements(By.CSS_SELECTOR, "button[name=decision][value=accept]")
        expect(accept, f"{key}: no accept button")
        accept[0].click()
        wait_for(driver, expected, f"{key}: no last page after accepting")
        shot(driver, f"o{index}-{key}-done")
        body = driver.find_element(By.TAG_NAME, "body").text
        expect("Confirm cancellation" not in body, f"{key}: accepting did not end the flow: {body[:300]}")
        if key == "contact":
            expect("help@example.com" in body, "the contact page has no address")
        subscription = api("GET", f"/v1/customers/offer_{key}")["subscriptions"][0]
        checks = {
            "pause": subscription["status"] == "paused",
            "discount": subscription["discountPercent"] == 30,
            "plan_change": subscription["planId"] == "basic" and subscription["amount"] == 500,
            "trial_extension": subscription["currentPeriodEnd"].startswith("2027-01-15"),
            "contact": subscription["status"] == "active" and not subscription["cancelAtPeriodEnd"],
        }
        expect(checks[key], f"{key}: the subscription does not show it: {subscription}")

    # Each language, from the link's locale: the whole flow, declined and cancelled.
    for name, tag in LOCALES.items():
        driver.delete_all_cookies()
        link = customer(name)
        driver.get(link["url"])
        expect(lang(driver) == tag, f"{name}: <html lang> is {lang(driver)}, not {tag}")
        body = driver.find_element(By.TAG_NAME, "body").text
        expect("Sorry to see you go" not in body and "Hi Ada" not in body, f"{name}: the landing page is in English: {body[:200]}")
        shot(driver, f"l-{tag}-1-landing")
        driver.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
        wait_for(driver, "reason-0", f"{name}: no survey")
        expect("Why are you leaving?" not in driver.page_source, f"{name}: the survey is in English")
        shot(driver, f"l-{tag}-2-survey")
        driver.find_element(By.CSS_SELECTOR, "label[for=reason-1]").click()
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for(driver, "decision", f"{name}: no offer")
        shot(driver, f"l-{tag}-3-offer")
        driver.find_element(By.CSS_SELECTOR, "button[name=decision][value=decline]").click()
        wait_for(driver, "/flow/confirm", f"{name}: no confirmation")
        shot(driver, f"l-{tag}-4-confirm")
        driver.find_element(By.CSS_SELECTOR, "form[action='/flow/confirm'] button").click()
        wait_for(driver, "CF-", f"{name}: no last page with a reference")
        expect(lang(driver) == tag, f"{name}: the last page is not in {tag}")
        shot(driver, f"l-{tag}-5-done")
        subscription = api("GET", f"/v1/customers/{name}")["subscriptions"][0]
        expect(subscription["cancelAtPeriodEnd"] is True, f"{name}: not cancelled: {subscription}")
finally:
    driver.quit()

# No locale on the link: the browser's language decides.
german = browser(language="de-DE,de")
try:
    link = customer("walk_browser")
    german.get(link["url"])
    expect(lang(german) == "de-DE", f"a German browser got <html lang={lang(german)}>")
    shot(german, "l-browser-de-landing")
finally:
    german.quit()

print(json.dumps({"ok": True}))
