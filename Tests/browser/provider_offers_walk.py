"""Walks the offers that change a subscription at a real provider API, in headless Chromium.

Run by CancelflowAppTests.BrowserTests against a real `cancelflow serve` whose test mode is
configured for a stand-in (PROVIDER=stripe: localstripe_plus.py; PROVIDER=paddle:
paddle_standin.py). Reads CANCELFLOW_BASE_URL, CANCELFLOW_APP_ID, CANCELFLOW_API_KEY,
CANCELFLOW_LIVE_APP_ID, CANCELFLOW_LIVE_API_KEY, SCREENSHOT_DIR, PROVIDER, PROVIDER_BASE and
PROVIDER_KEY. Publishes a default flow where "too expensive" leads to a plan change, "more time"
to 14 days of free time and "pause" to a pause; then, at the stand-in, a customer on Pro takes
Basic, a customer takes free time (Stripe: on a paying subscription; Paddle: on a trial, and a
paying Paddle customer is not offered it), a customer pauses and one takes a discount. Each result is read back from
the stand-in. Screenshots every offer and last page. Exits non-zero on the first thing wrong.
"""
import datetime
import json
import os
import sys
import urllib.parse
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
from walk_support import BASE, api, browser, expect, shot, wait_for  # noqa: E402

SHOTS = os.environ["SCREENSHOT_DIR"]
os.makedirs(SHOTS, exist_ok=True)
PROVIDER = os.environ["PROVIDER"]
STAND_IN = os.environ["PROVIDER_BASE"]
KEY = os.environ["PROVIDER_KEY"]
LIVE = {"x-ck-app": os.environ["CANCELFLOW_LIVE_APP_ID"], "x-ck-api-key": os.environ["CANCELFLOW_LIVE_API_KEY"]}


def call(method, path, fields=None, authorized=True):
    """One call to the stand-in: form-encoded for Stripe, JSON for Paddle."""
    headers = {"Authorization": "Bearer " + KEY} if authorized else {}
    data = None
    if fields is not None and PROVIDER == "stripe":
        data = urllib.parse.urlencode(fields).encode()
    elif fields is not None:
        data = json.dumps(fields).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(STAND_IN + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=20) as response:
        body = json.loads(response.read())
    return body if PROVIDER == "stripe" else body["data"]


def publish(plan_id):
    flow = api("GET", "/v1/flows")["data"][0]
    document = {
        "name": "Provider offers",
        "survey": {"reasons": [{"id": "too_expensive", "label": "Too expensive", "offer": "cheaper"},
                               {"id": "more_time", "label": "I need more time", "offer": "trial"},
                               {"id": "break", "label": "I need a break", "offer": "pause"},
                               {"id": "price", "label": "The price went up", "offer": "discount"}]},
        "offers": [{"id": "cheaper", "type": "plan_change", "plans": [{"id": plan_id, "name": "Basic", "amount": 500, "currency": "usd"}]},
                   {"id": "trial", "type": "trial_extension", "days": 14},
                   {"id": "pause", "type": "pause", "months": 1},
                   {"id": "discount", "type": "discount", "percent": 20, "months": 12}],
    }
    api("PUT", f"/v1/flows/{flow['id']}/draft", document)
    request = urllib.request.Request(BASE + f"/v1/flows/{flow['id']}/publish", method="POST", data=b"", headers=LIVE)
    urllib.request.urlopen(request, timeout=20).read()


def stripe_customer(email, plan):
    card = call("POST", "/v1/payment_methods", {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
                                                "card[exp_year]": "2030", "card[cvc]": "123"})
    customer = call("POST", "/v1/customers", {"email": email, "name": "Grace", "payment_method": card["id"],
                                              "invoice_settings[default_payment_method]": card["id"]})
    subscription = call("POST", "/v1/subscriptions", {"customer": customer["id"], "items[0][plan]": plan})
    return customer["id"], subscription["id"]


def paddle_customer(email, plan_name, amount, status="active"):
    customer = call("POST", "/_test/customers", {"name": "Grace", "email": email}, authorized=False)
    subscription = call("POST", "/_test/subscriptions", {"customer_id": customer["id"], "plan_name": plan_name, "amount": amount,
                                                         "currency": "USD", "interval": "month", "status": status}, authorized=False)
    # Paddle links name the subscription.
    return subscription["id"], subscription


expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def walk(driver, reference, subscription, reason_index, name, accept=True):
    """From a fresh link to the step after the survey; accepts the offer when there is one."""
    driver.delete_all_cookies()
    link = api("POST", "/v1/cancel-sessions", {"customerId": reference, "subscriptionId": subscription, "expiresAt": expires})
    driver.get(link["url"])
    driver.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    wait_for(driver, "reason-0", f"{name}: no survey")
    driver.find_element(By.CSS_SELECTOR, f"label[for=reason-{reason_index}]").click()
    driver.find_element(By.CSS_SELECTOR, "form[action='/flow/survey'] button[type=submit]").click()
    # The next step is an offer, or (none to make) the confirmation.
    WebDriverWait(driver, 15).until(lambda d: "decision" in d.page_source or "/flow/confirm" in d.page_source)
    shot(driver, f"{PROVIDER}-{name}-offer")
    if not accept:
        return driver.page_source
    buttons = driver.find_elements(By.CSS_SELECTOR, "button[name=decision][value=accept]")
    expect(buttons, f"{name}: no offer to accept: {driver.find_element(By.TAG_NAME, 'body').text[:300]}")
    buttons[0].click()
    wait_for(driver, {"pause": "paused", "discount": "discount is applied"}.get(name, "Thanks for staying"), f"{name}: no last page")
    shot(driver, f"{PROVIDER}-{name}-done")
    return driver.page_source


driver = browser()
try:
    if PROVIDER == "stripe":
        for plan, nickname, amount in [("pro", "Pro", 1500), ("basic", "Basic", 500)]:
            call("POST", "/v1/products", {"id": "prod_" + plan, "name": nickname})
            call("POST", "/v1/plans", {"id": plan, "product": "prod_" + plan, "amount": amount, "currency": "usd",
                                       "interval": "month", "nickname": nickname})
        publish("basic")
        customer, subscription = stripe_customer("grace@example.com", "pro")
        walk(driver, customer, subscription, 0, "plan_change")
        item = call("GET", f"/v1/subscriptions/{subscription}")["items"]["data"][0]
        expect(item["plan"]["id"] == "basic", f"Stripe's item is not on Basic: {item}")
        customer, subscription = stripe_customer("ada@example.com", "pro")
        before = call("GET", f"/v1/subscriptions/{subscription}")["current_period_end"]
        walk(driver, customer, subscription, 1, "trial_extension")
        after = call("GET", f"/v1/subscriptions/{subscription}")
        expect(after["status"] == "trialing" and after["trial_end"] == before + 14 * 86400, f"no free time at Stripe: {after}")
        customer, subscription = stripe_customer("lin@example.com", "pro")
        walk(driver, customer, subscription, 2, "pause")
        paused = call("GET", f"/v1/subscriptions/{subscription}")
        expect(paused["pause_collection"] is not None, f"Stripe did not pause: {paused}")
        customer, subscription = stripe_customer("dee@example.com", "pro")
        walk(driver, customer, subscription, 3, "discount")
        discounted = call("GET", f"/v1/subscriptions/{subscription}?expand[]=discounts")["discounts"]
        expect(discounted and discounted[0]["coupon"]["id"] == "cancelflow_20_off_12_months", f"Stripe has no discount: {discounted}")
    else:
        basic_id, basic = paddle_customer("basic@example.com", "Basic", "500")
        publish(basic["items"][0]["price"]["id"])
        pro_id, _ = paddle_customer("grace@example.com", "Pro", "1500")
        walk(driver, pro_id, pro_id, 0, "plan_change")
        changed = call("GET", f"/subscriptions/{pro_id}")
        expect(changed["items"][0]["price"]["id"] == basic["items"][0]["price"]["id"], f"Paddle's items are not Basic: {changed}")
        paying_id, _ = paddle_customer("ada@example.com", "Pro", "1500")
        page = walk(driver, paying_id, paying_id, 1, "no_free_time_when_paying", accept=False)
        expect("/flow/confirm" in page and "decision" not in page, "a paying Paddle customer was offered free time")
        trial_id, trial = paddle_customer("tia@example.com", "Pro", "1500", status="trialing")
        walk(driver, trial_id, trial_id, 1, "trial_extension")
        moved = call("GET", f"/subscriptions/{trial_id}")["next_billed_at"]
        start = datetime.datetime.fromisoformat(trial["next_billed_at"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(moved.replace("Z", "+00:00"))
        expect(abs((end - start).total_seconds() - 14 * 86400) < 2, f"Paddle's trial did not move 14 days: {trial['next_billed_at']} -> {moved}")
        pause_id, _ = paddle_customer("lin@example.com", "Pro", "1500")
        walk(driver, pause_id, pause_id, 2, "pause")
        scheduled = call("GET", f"/subscriptions/{pause_id}")["scheduled_change"]
        expect(scheduled and scheduled["action"] == "pause", f"Paddle did not schedule the pause: {scheduled}")
        discount_id, _ = paddle_customer("dee@example.com", "Pro", "1500")
        walk(driver, discount_id, discount_id, 3, "discount")
        discount = call("GET", f"/subscriptions/{discount_id}")["discount"]
        expect(discount and discount["id"].startswith("dsc_"), f"Paddle has no discount: {discount}")
finally:
    driver.quit()

print(json.dumps({"ok": True}))
