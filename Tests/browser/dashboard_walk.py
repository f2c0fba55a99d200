"""Walks the merchant dashboard in headless Chromium, as the dashboard issue's "done means" says.

Run by CancelflowAppTests.BrowserTests against a real `cancelflow serve` on a fresh database.
Reads CANCELFLOW_BASE_URL, CANCELFLOW_APP_ID, CANCELFLOW_API_KEY, SCREENSHOT_DIR and
DASHBOARD_SETUP_URL (the first owner's link the first start printed) from the environment.

The owner sets up their account from the printed link, signs in, switches to test mode and
invites a support person from the Team page. The support person (no code) sets up their account,
signs in, finds a customer created through the API, and generates a 1-hour single-use link in the
modal, keyboard first; the URL lands on the clipboard. A fresh browser opens it and cancels. The
support person sees the link consumed; the owner sees the cancellation in the outcomes overview
and the generation in the audit log, changes Session link expiration to 2 hours and sees the
modal's default follow. One more pass generates a link with JavaScript off. No page may log a
Content-Security-Policy violation. Screenshots of each page (desktop and phone widths) go to
SCREENSHOT_DIR. Exits non-zero with a message on the first thing that is wrong.
"""
import datetime
import json
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
from walk_support import BASE, api, browser, click, expect, shot, wait_for  # noqa: E402

SHOTS = os.environ["SCREENSHOT_DIR"]
os.makedirs(SHOTS, exist_ok=True)
SETUP = os.environ["DASHBOARD_SETUP_URL"]
PASSWORD = "a-long-enough-password"
drivers = []


def field(driver, name):
    return driver.find_element(By.NAME, name)


def body(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def both_widths(driver, name):
    """A desktop and a phone-width screenshot of the current page; at phone width nothing may
    stick out sideways (wide tables scroll inside their own box). The phone is emulated: headless
    Chromium does not make its window narrower than 500 px."""
    shot(driver, name)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True})
    try:
        wide = driver.execute_script("""
            const width = document.documentElement.clientWidth;
            return Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap') && !e.closest('svg'))
                .slice(0, 3).map(e => e.tagName + '.' + e.className);""")
        expect(driver.execute_script("return document.documentElement.clientWidth") == 375, "the phone width was not applied")
        expect(not wide, f"{name} sticks out sideways at 375 px: {wide}")
        shot(driver, name + "-phone")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def csp_violations(driver):
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def set_up_account(driver, url, email=None, name=None):
    driver.get(url)
    wait_for(driver, "Set up your dashboard account", "no set-up form at " + url)
    if email is not None:
        field(driver, "email").send_keys(email)
    if name is not None:
        field(driver, "name").send_keys(name)
    field(driver, "password").send_keys(PASSWORD)
    click(driver, "Create account")
    wait_for(driver, "Your account is ready", "set-up did not lead to sign-in")


def sign_in(driver, email):
    driver.get(BASE + "/dashboard/login")
    field(driver, "email").send_keys(email)
    field(driver, "password").send_keys(PASSWORD)
    click(driver, "Sign in")
    wait_for(driver, "Customers", "sign-in did not open the dashboard")


try:
    # 1. The owner, from the link the first start printed.
    owner = browser(1280, 900)
    drivers.append(owner)
    owner.get(SETUP)
    shot(owner, "d01-setup")
    set_up_account(owner, SETUP, email="olive@example.com", name="Olive")
    shot(owner, "d02-sign-in")
    sign_in(owner, "olive@example.com")

    # 2. The test / live switch.
    owner.get(BASE + "/dashboard/live/customers")
    expect("Test mode" not in body(owner), "live mode shows the test banner")
    owner.find_element(By.CSS_SELECTOR, ".mode-switch a[href='/dashboard/test/customers']").click()
    wait_for(owner, "Test mode", "no test-mode banner after switching to test")

    # 3. The owner invites a support person.
    click(owner, "Team")
    wait_for(owner, "Invite someone", "no team page")
    both_widths(owner, "d03-team")
    field(owner, "email").send_keys("sam@example.com")
    owner.find_element(By.CSS_SELECTOR, "#role option[value=support]").click()
    click(owner, "Create set-up link")
    wait_for(owner, "Set-up link", "no set-up link for the invitation")
    invitation = owner.find_element(By.ID, "secret").get_attribute("value")
    expect(invitation.startswith(BASE + "/dashboard/setup/"), "unexpected invitation " + invitation)

    # 4. A customer, through the API.
    api("PUT", "/v1/customers/cus_walk", {"email": "ada@example.com", "name": "Ada Lovelace"})
    api("PUT", "/v1/customers/cus_walk/subscriptions/sub_walk",
        {"status": "active", "planName": "Pro", "amount": 1200, "currency": "usd", "interval": "month"})

    # 5. The support person: set-up, sign-in, search, the customer, the modal.
    support = browser(1280, 900)
    drivers.append(support)
    support.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": BASE, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    set_up_account(support, invitation, name="Sam")
    sign_in(support, "sam@example.com")
    expect("API keys" not in body(support) and "Webhooks" not in body(support), "support sees settings in the navigation")
    field(support, "q").send_keys("ada")
    click(support, "Search")
    wait_for(support, "Ada Lovelace", "the search does not find the customer")
    both_widths(support, "d04-customers")
    click(support, "Ada Lovelace")
    wait_for(support, "Generate Cancel Link", "no customer page")
    both_widths(support, "d05-customer")
    opener = support.find_element(By.CSS_SELECTOR, "[data-dialog-open=generate-dialog]")
    # Keyboard: focus the button, Enter opens the dialog, Escape closes it, Enter again.
    support.execute_script("arguments[0].focus()", opener)
    opener.send_keys(Keys.ENTER)
    dialog = support.find_element(By.ID, "generate-dialog")
    WebDriverWait(support, 5).until(lambda d: dialog.get_attribute("open") is not None)
    focused = support.switch_to.active_element
    expect(focused.get_attribute("value") == "86400", "the dialog's focus is not on the 24-hour default")
    focused.send_keys(Keys.ESCAPE)
    WebDriverWait(support, 5).until(lambda d: dialog.get_attribute("open") is None)
    support.execute_script("arguments[0].focus()", opener)
    opener.send_keys(Keys.ENTER)
    WebDriverWait(support, 5).until(lambda d: dialog.get_attribute("open") is not None)
    presets = [e.get_attribute("value") for e in dialog.find_elements(By.CSS_SELECTOR, "input[name=expiresIn]")]
    expect(presets == ["3600", "21600", "86400", "259200", "604800", "2592000"], f"presets are {presets}")
    single = dialog.find_element(By.CSS_SELECTOR, "input[name=singleUse]")
    warning = dialog.find_element(By.CSS_SELECTOR, ".warning")
    expect(single.is_selected() and not warning.is_displayed(), "single use is not on by default, or its warning shows")
    dialog.find_element(By.CSS_SELECTOR, "label[for^=single]").click()
    expect(warning.is_displayed(), "no warning when single use is turned off")
    dialog.find_element(By.CSS_SELECTOR, "label[for^=single]").click()
    dialog.find_element(By.CSS_SELECTOR, "label[for='exp-3600']").click()
    shot(support, "d06-modal")
    click(support, "Generate link")
    wait_for(support, "Cancel Link generated", "no generated link")
    url = support.find_element(By.ID, "link-url").get_attribute("value")
    expect(url.startswith(BASE + "/cancel/cl_"), "unexpected link " + url)
    WebDriverWait(support, 10).until(lambda d: "Copied" in body(d))
    copied = support.execute_async_script(
        "const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, e => done('ERROR ' + e));")
    expect(copied == url, f"the clipboard holds {copied!r}, not the link")
    both_widths(support, "d07-link-created")

    # 6. The customer, in a browser of their own.
    customer = browser()
    drivers.append(customer)
    customer.get(url)
    click(customer, "Continue to cancel")
    wait_for(customer, "Why are you leaving?", "no survey")
    customer.find_element(By.CSS_SELECTOR, "label[for=reason-0]").click()
    customer.find_element(By.ID, "comment").send_keys("Budget cut")
    click(customer, "Continue")
    wait_for(customer, "Before you go", "no offer")
    click(customer, "No thanks, continue to cancel")
    wait_for(customer, "Confirm cancellation", "no confirmation step")
    click(customer, "Cancel my subscription")
    wait_for(customer, "Your subscription is cancelled", "the cancellation did not complete")
    shot(customer, "d08-customer-done")
    customer_violations = csp_violations(customer)
    customer.quit()
    drivers.remove(customer)

    # 7. Consumed on the customer page; canceled in the outcomes; generated in the audit log.
    support.get(BASE + "/dashboard/test/customers/cus_walk")
    row = support.find_element(By.CSS_SELECTOR, "tr[data-link]")
    expect("consumed" in row.text and "Sam" in row.text, "the link is not shown consumed, generated by Sam: " + row.text)
    shot(support, "d09-consumed")
    owner.get(BASE + "/dashboard/test/outcomes")
    wait_for(owner, "Outcomes (test)", "no outcomes page")
    rows = {r.find_elements(By.TAG_NAME, "td")[0].text: r.find_elements(By.TAG_NAME, "td")[1].text
            for r in owner.find_elements(By.CSS_SELECTOR, "table tbody tr") if len(r.find_elements(By.TAG_NAME, "td")) == 2}
    expect(rows.get("Canceled") == "1", f"the overview does not count the cancellation: {rows}")
    expect("Budget cut" in body(owner), "the comment is not in the overview")
    both_widths(owner, "d10-outcomes")
    owner.get(BASE + "/dashboard/test/audit?action=link.")
    expect("link.generated" in body(owner) and "sam@example.com" in body(owner), "the audit log does not show Sam's link")
    both_widths(owner, "d11-audit")
    for page, name in [("settings/keys", "d12-keys"), ("settings/billing", "d13-billing"), ("webhooks", "d14-webhooks")]:
        owner.get(BASE + "/dashboard/test/" + page)
        both_widths(owner, name)

    # 8. Session link expiration to 2 hours: the modal's default follows.
    owner.get(BASE + "/dashboard/test/hosted/setup")
    owner.find_element(By.CSS_SELECTOR, "#sessionLinkExpiration option[value='7200']").click()
    both_widths(owner, "d15-hosted-setup")
    click(owner, "Save")
    wait_for(owner, "Saved.", "the setup was not saved")
    support.get(BASE + "/dashboard/test/customers/cus_walk")
    support.find_element(By.CSS_SELECTOR, "[data-dialog-open=generate-dialog]").click()
    checked = support.find_element(By.CSS_SELECTOR, "#generate-dialog input[name=expiresIn]:checked")
    expect(checked.get_attribute("value") == "7200", "the modal's default did not follow the setting")
    expect("2 hours (default)" in body(support), "the 2-hour default is not labelled")
    shot(support, "d16-modal-2-hours")

    # 9. Without JavaScript, Generate Cancel Link is a page of its own and still works.
    options_driver = browser(1280, 900, javascript=False)
    drivers.append(options_driver)
    sign_in(options_driver, "sam@example.com")
    options_driver.get(BASE + "/dashboard/test/customers/cus_walk")
    click(options_driver, "Generate Cancel Link")
    wait_for(options_driver, "The link opens the cancel flow", "no generate page without JavaScript")
    expect(options_driver.find_element(By.CSS_SELECTOR, "input[name=expiresIn][value='7200']").is_selected(), "no 2-hour default")
    shot(options_driver, "d17-generate-no-js")
    click(options_driver, "Generate link")
    wait_for(options_driver, "Cancel Link generated", "no link without JavaScript")
    expect(options_driver.find_element(By.ID, "link-url").get_attribute("value").startswith(BASE + "/cancel/cl_"), "no URL shown")

    expect(not customer_violations, "Content-Security-Policy violations on the hosted pages: " + json.dumps(customer_violations)[:500])
    for driver in [owner, support, options_driver]:
        violations = csp_violations(driver)
        expect(not violations, "Content-Security-Policy violations: " + json.dumps(violations)[:500])
    print(json.dumps({"ok": True, "link": url.split("/cancel/")[0], "at": datetime.datetime.now().isoformat()}))
finally:
    for driver in drivers:
        driver.quit()
