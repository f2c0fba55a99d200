"""What the browser walks share: the API client, the browser, and the checks."""
import json
import os
import sys
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["CANCELFLOW_BASE_URL"]
APP = os.environ["CANCELFLOW_APP_ID"]
KEY = os.environ["CANCELFLOW_API_KEY"]
SHOTS = os.environ["SCREENSHOT_DIR"]


def api(method, path, body=None):
    request = urllib.request.Request(
        BASE + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"x-ck-app": APP, "x-ck-api-key": KEY, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def browser(width=390, height=844, javascript=True, language=None):
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"]:
        options.add_argument(argument)
    prefs = {}
    if language:
        # Sent as Accept-Language.
        prefs["intl.accept_languages"] = language
    # The console, for Content-Security-Policy violations.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    if prefs:
        options.add_experimental_option("prefs", prefs)
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")), options=options)
    # A page that never finishes loading is a failure to report, not a reason to wait forever.
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver


def expect(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def wait_for(driver, text, message):
    """Waits for the next page: a click returns before the browser has navigated."""
    try:
        WebDriverWait(driver, 15).until(lambda d: text in d.page_source)
    except TimeoutException:
        expect(False, message + " (at " + driver.current_url + ")")


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def click(driver, text):
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "button, a") if b.text.strip() == text]
    expect(buttons, f"no button or link '{text}' on {driver.current_url}: {driver.find_element(By.TAG_NAME, 'body').text[:300]}")
    buttons[0].click()


