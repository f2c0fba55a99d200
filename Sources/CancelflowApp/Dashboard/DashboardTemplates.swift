import Mustache

/// The dashboard's templates, compiled into the binary like the hosted pages' (see
/// `Templates`). Everything from a merchant, a customer or a provider is inserted with `{{ }}`,
/// which escapes HTML. Views are dictionaries: the dashboard is not a hot path, and the hosted
/// pages' hand-written lookups (see `PageViews+Mustache.swift`) would be a second copy of every
/// view for no measurable gain.
///
/// Every page works without JavaScript. `/dashboard/assets/dashboard.js` only opens the
/// Generate Cancel Link form as a modal `<dialog>` (whose link otherwise leads to a page of its
/// own), copies a new URL to the clipboard, and hides the single-use warning while the box is ticked.
enum DashboardTemplates {
    static func register(in library: inout MustacheLibrary) throws {
        for (name, text) in self.all + self.settingsTemplates {
            try library.register(text, named: name)
        }
    }

    static let all: [(String, String)] = [
        ("dash-head", head), ("dash-layout", layout), ("dash-public", publicLayout), ("dash-login", login), ("dash-code", code),
        ("dash-setup", setup),
        ("dash-reset-request", resetRequest), ("dash-public-message", publicMessage), ("dash-message", message),
        ("dash-account", account), ("dash-totp", totp), ("dash-customers", customers), ("dash-customer", customer),
        ("dash-generate", generate), ("dash-link-created", linkCreated),
    ]

    /// The start of every dashboard page, up to the end of `<head>` (which each layout closes).
    static let head = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{{title}}{{#frame.orgName}} · {{frame.orgName}}{{/frame.orgName}} · Cancelflow</title>
        <link rel="stylesheet" href="/assets/cancelflow.css">
        """

    /// The frame of every signed-in page: the organization, the mode switch, the navigation
    /// for the user's role, and the test-mode banner.
    static let layout = """
        {{>dash-head}}
        <script src="/dashboard/assets/dashboard.js" defer></script>
        </head>
        <body class="dash">
        <a class="skip" href="#main">Skip to content</a>
        {{#frame.testMode}}<div class="test-banner" role="note"><strong>Test mode</strong> — you are looking at test data. Nothing here touches live customers.</div>{{/frame.testMode}}
        <header class="dash-header">
          <span class="dash-org">{{frame.orgName}}</span>
          <nav class="mode-switch" aria-label="Mode">
            <a href="{{frame.testURL}}" {{#frame.testMode}}aria-current="page" class="on"{{/frame.testMode}}>Test</a>
            <a href="{{frame.liveURL}}" {{^frame.testMode}}aria-current="page" class="on"{{/frame.testMode}}>Live</a>
          </nav>
          <div class="dash-user">
            <a href="{{frame.base}}/account">{{frame.userLabel}}</a> <span class="muted">({{frame.roleName}})</span>
            <form method="post" action="/dashboard/logout" class="inline">
              <input type="hidden" name="csrf" value="{{frame.csrf}}">
              <button type="submit" class="link-button">Sign out</button>
            </form>
          </div>
        </header>
        <nav class="dash-nav" aria-label="Sections">
          {{#frame.nav}}<a href="{{href}}" {{#current}}aria-current="page"{{/current}}>{{label}}</a>{{/frame.nav}}
        </nav>
        <main class="dash-main" id="main">
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{$body}}{{/body}}
        </main>
        </body>
        </html>
        """

    /// Pages before sign-in: one card.
    static let publicLayout = """
        {{>dash-head}}
        </head>
        <body>
        <header class="brand"><span class="brand-name">Cancelflow</span></header>
        <main class="card" id="main">
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{$body}}{{/body}}
        </main>
        </body>
        </html>
        """

    static let login = """
        {{<dash-public}}
        {{$body}}
        <h1>Sign in to the dashboard</h1>
        <form method="post" action="/dashboard/login">
          <input type="hidden" name="csrf" value="{{csrf}}">
          {{#next}}<input type="hidden" name="next" value="{{next}}">{{/next}}
          <label for="email">Email address</label>
          <input type="email" id="email" name="email" value="{{email}}" autocomplete="username" maxlength="254" required autofocus>
          <label for="password">Password</label>
          <input type="password" id="password" name="password" autocomplete="current-password" maxlength="200" required>
          <button type="submit" class="primary">Sign in</button>
        </form>
        <p class="muted"><a href="/dashboard/reset">Forgot your password?</a></p>
        {{/body}}
        {{/dash-public}}
        """

    static let code = """
        {{<dash-public}}
        {{$body}}
        <h1>Enter your code</h1>
        <p>Open your authenticator app and enter the 6-digit code for Cancelflow.</p>
        <form method="post" action="/dashboard/login/code">
          <input type="hidden" name="csrf" value="{{csrf}}">
          {{#next}}<input type="hidden" name="next" value="{{next}}">{{/next}}
          <label for="code">Code</label>
          <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7"
                 required autofocus>
          <button type="submit" class="primary">Continue</button>
        </form>
        <p class="muted"><a href="/dashboard/login">Start again</a></p>
        {{/body}}
        {{/dash-public}}
        """

    static let setup = """
        {{<dash-public}}
        {{$body}}
        <h1>{{heading}}</h1>
        <p>{{intro}}</p>
        <form method="post" action="{{action}}">
          <input type="hidden" name="csrf" value="{{csrf}}">
          {{#askEmail}}
          <label for="email">Email address</label>
          <input type="email" id="email" name="email" value="{{email}}" autocomplete="username" maxlength="254" required autofocus>
          {{/askEmail}}
          {{^askEmail}}<p><strong>{{email}}</strong></p>{{/askEmail}}
          {{#askName}}
          <label for="name">Your name <span class="muted">(optional)</span></label>
          <input type="text" id="name" name="name" value="{{name}}" autocomplete="name" maxlength="100">
          {{/askName}}
          <label for="password">New password <span class="muted">(at least 10 characters)</span></label>
          <input type="password" id="password" name="password" autocomplete="new-password" minlength="10" maxlength="72" required>
          <button type="submit" class="primary">{{button}}</button>
        </form>
        {{/body}}
        {{/dash-public}}
        """

    static let resetRequest = """
        {{<dash-public}}
        {{$body}}
        <h1>Reset your password</h1>
        <p>Enter the address you sign in with. If it has an account, we'll email it a link to choose a new password.</p>
        <form method="post" action="/dashboard/reset">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <label for="email">Email address</label>
          <input type="email" id="email" name="email" autocomplete="username" maxlength="254" required autofocus>
          <button type="submit" class="primary">Email me a link</button>
        </form>
        <p class="muted"><a href="/dashboard/login">Back to sign in</a></p>
        {{/body}}
        {{/dash-public}}
        """

    static let publicMessage = """
        {{<dash-public}}
        {{$body}}
        <h1>{{heading}}</h1>
        <p>{{message}}</p>
        {{#linkURL}}<p><a href="{{linkURL}}" class="primary-link">{{linkText}}</a></p>{{/linkURL}}
        {{/body}}
        {{/dash-public}}
        """

    static let message = """
        {{<dash-layout}}
        {{$body}}
        <h1>{{heading}}</h1>
        <p>{{message}}</p>
        {{#linkURL}}<p><a href="{{linkURL}}">{{linkText}}</a></p>{{/linkURL}}
        {{/body}}
        {{/dash-layout}}
        """

    static let account = """
        {{<dash-layout}}
        {{$body}}
        <h1>Your account</h1>
        <p>{{email}} · {{roleName}} of {{frame.orgName}}</p>
        <section class="panel" aria-labelledby="pw-title">
          <h2 id="pw-title">Password</h2>
          <form method="post" action="{{frame.base}}/account/password" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <label for="current">Current password</label>
            <input type="password" id="current" name="current" autocomplete="current-password" maxlength="200" required>
            <label for="password">New password <span class="muted">(at least 10 characters)</span></label>
            <input type="password" id="password" name="password" autocomplete="new-password" minlength="10" maxlength="72" required>
            <button type="submit" class="secondary">Change password</button>
          </form>
          <p class="muted">Changing your password signs you out everywhere.</p>
        </section>
        <section class="panel" aria-labelledby="totp-title">
          <h2 id="totp-title">Two-step sign-in</h2>
          {{#hasTOTP}}
          <p>On: signing in asks for a code from your authenticator app.</p>
          <form method="post" action="{{frame.base}}/account/totp/disable" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <label for="totp-password">Password</label>
            <input type="password" id="totp-password" name="password" autocomplete="current-password" maxlength="200" required>
            <button type="submit" class="secondary">Turn off</button>
          </form>
          {{/hasTOTP}}
          {{^hasTOTP}}
          <p>Off. Add a code from an authenticator app to every sign-in.</p>
          <p><a href="{{frame.base}}/account/totp" class="button-link">Set up two-step sign-in</a></p>
          {{/hasTOTP}}
        </section>
        <section class="panel" aria-labelledby="out-title">
          <h2 id="out-title">Sessions</h2>
          <form method="post" action="/dashboard/logout-everywhere">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <button type="submit" class="secondary">Sign out everywhere</button>
          </form>
        </section>
        {{/body}}
        {{/dash-layout}}
        """

    static let totp = """
        {{<dash-layout}}
        {{$body}}
        <h1>Set up two-step sign-in</h1>
        <ol>
          <li>In your authenticator app, add an account with this key (or open the link on the phone that has the app):
            <p><code class="key">{{manualKey}}</code></p>
            <p><a href="{{enrolmentURL}}">Open in an authenticator app</a></p></li>
          <li>Enter the 6-digit code the app shows.</li>
        </ol>
        <form method="post" action="{{frame.base}}/account/totp" class="form-grid">
          <input type="hidden" name="csrf" value="{{frame.csrf}}">
          <input type="hidden" name="secret" value="{{secret}}">
          <label for="code">Code</label>
          <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7"
                 required autofocus>
          <button type="submit" class="primary">Turn on</button>
        </form>
        {{/body}}
        {{/dash-layout}}
        """

    static let customers = """
        {{<dash-layout}}
        {{$body}}
        <h1>Customers</h1>
        <form method="get" action="{{frame.base}}/customers" class="search" role="search">
          <label for="q">{{searchLabel}}</label>
          <input type="search" id="q" name="q" value="{{query}}" maxlength="255">
          <button type="submit" class="secondary">Search</button>
        </form>
        {{#searchOnly}}<p class="muted">This mode's customers live at {{providerName}}: search by their email address or id.</p>{{/searchOnly}}
        {{#hasCustomers}}
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Customer</th><th scope="col">Email</th><th scope="col">Id</th></tr></thead>
          <tbody>
          {{#customers}}
            <tr><td><a href="{{href}}">{{name}}</a></td><td>{{email}}</td><td><code>{{id}}</code></td></tr>
          {{/customers}}
          </tbody>
        </table>
        </div>
        {{/hasCustomers}}
        {{^hasCustomers}}{{#searched}}<p>No customer matches “{{query}}”.</p>{{/searched}}{{^searched}}{{^searchOnly}}<p>No customers yet. Push them with <code>PUT /v1/customers/{id}</code>.</p>{{/searchOnly}}{{/searched}}{{/hasCustomers}}
        {{#nextURL}}<p><a href="{{nextURL}}">Next page</a></p>{{/nextURL}}
        {{/body}}
        {{/dash-layout}}
        """

    /// The form behind Generate Cancel Link, in the modal and on its own page.
    static let generateForm = """
        <form method="post" action="{{generate.action}}" class="form-grid">
          <input type="hidden" name="csrf" value="{{frame.csrf}}">
          <input type="hidden" name="nonce" value="{{generate.nonce}}">
          <fieldset>
            <legend>Link expires in</legend>
            {{#generate.presets}}
            <div class="choice">
              <input type="radio" name="expiresIn" id="exp-{{seconds}}{{generate.suffix}}" value="{{seconds}}" {{#selected}}checked{{/selected}}>
              <label for="exp-{{seconds}}{{generate.suffix}}">{{label}}{{#isDefault}} (default){{/isDefault}}</label>
            </div>
            {{/generate.presets}}
          </fieldset>
          {{#generate.hasSubscriptions}}
          <label for="sub{{generate.suffix}}">Subscription</label>
          <select id="sub{{generate.suffix}}" name="subscriptionId">
            <option value="">Let the customer choose</option>
            {{#generate.subscriptions}}<option value="{{id}}">{{plan}} ({{id}})</option>{{/generate.subscriptions}}
          </select>
          {{/generate.hasSubscriptions}}
          <div class="choice">
            <input type="checkbox" name="singleUse" id="single{{generate.suffix}}" value="true" checked data-warning="single-warning{{generate.suffix}}">
            <label for="single{{generate.suffix}}">Single use</label>
          </div>
          <p class="warning" id="single-warning{{generate.suffix}}">Without “Single use”, the link keeps working until it expires: anyone who gets hold of it can open this customer's cancel flow, as often as they like.</p>
          <button type="submit" class="primary">Generate link</button>
        </form>
        """

    static let customer = """
        {{<dash-layout}}
        {{$body}}
        <p class="crumbs"><a href="{{frame.base}}/customers">Customers</a></p>
        <h1>{{name}}</h1>
        <p>{{#email}}{{email}} · {{/email}}<code>{{id}}</code></p>
        <p><a href="{{generateURL}}" class="button-link primary" data-dialog-open="generate-dialog">Generate Cancel Link</a></p>
        <dialog id="generate-dialog" aria-labelledby="generate-title">
          <h2 id="generate-title">Generate Cancel Link</h2>
          \(generateForm)
          <button type="button" class="link-button" data-dialog-close>Close</button>
        </dialog>
        <h2>Subscriptions</h2>
        {{#hasSubscriptions}}
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Plan</th><th scope="col">Status</th><th scope="col">Price</th><th scope="col">Period ends</th><th scope="col">Id</th></tr></thead>
          <tbody>
          {{#subscriptions}}<tr><td>{{plan}}</td><td>{{status}}</td><td>{{price}}</td><td>{{periodEnd}}</td><td><code>{{id}}</code></td></tr>{{/subscriptions}}
          </tbody>
        </table>
        </div>
        {{/hasSubscriptions}}
        {{^hasSubscriptions}}<p>No subscriptions.</p>{{/hasSubscriptions}}
        <h2>Cancel Links</h2>
        {{#hasLinks}}
        <div class="table-wrap">
        <table class="links">
          <thead><tr><th scope="col">Link</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Exchanged</th><th scope="col">Generated by</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
          {{#links}}
          <tr data-link="{{id}}">
            <td><code>{{id}}</code>{{^singleUse}} <span class="tag">reusable</span>{{/singleUse}}</td>
            <td><span class="status status-{{status}}">{{status}}</span></td>
            <td>{{created}}</td><td>{{expires}}</td><td>{{exchanged}}</td><td>{{by}}</td>
            <td>{{#revocable}}<form method="post" action="{{revokeURL}}" class="inline"><input type="hidden" name="csrf" value="{{frame.csrf}}"><button type="submit" class="link-button">Revoke</button></form>{{/revocable}}</td>
          </tr>
          {{/links}}
          </tbody>
        </table>
        </div>
        {{/hasLinks}}
        {{^hasLinks}}<p>No links yet.</p>{{/hasLinks}}
        {{#moreLinksURL}}<p><a href="{{moreLinksURL}}">Older links</a></p>{{/moreLinksURL}}
        {{/body}}
        {{/dash-layout}}
        """

    static let generate = """
        {{<dash-layout}}
        {{$body}}
        <p class="crumbs"><a href="{{customerURL}}">{{name}}</a></p>
        <h1>Generate Cancel Link</h1>
        <p>For {{name}} (<code>{{id}}</code>). The link opens the cancel flow already signed in as this customer.</p>
        \(generateForm)
        {{/body}}
        {{/dash-layout}}
        """

    static let linkCreated = """
        {{<dash-layout}}
        {{$body}}
        <p class="crumbs"><a href="{{customerURL}}">{{name}}</a></p>
        <h1>Cancel Link generated</h1>
        <p>Send this URL to {{name}}. It is shown <strong>only now</strong>: Cancelflow keeps only a hash of it.</p>
        <div class="copy-row">
          <label for="link-url" class="visually-hidden">Cancel Link URL</label>
          <input type="text" id="link-url" value="{{url}}" readonly data-autocopy>
          <button type="button" class="secondary" data-copy="link-url" hidden>Copy</button>
        </div>
        <p id="copy-status" class="muted" role="status"></p>
        <p>Expires {{expires}}{{#singleUse}}; works once{{/singleUse}}{{^singleUse}}; <strong>reusable</strong> until then{{/singleUse}}. Link <code>{{id}}</code>.</p>
        <p><a href="{{customerURL}}">Back to {{name}}</a></p>
        {{/body}}
        {{/dash-layout}}
        """

    /// The dashboard's additions to the hosted pages' stylesheet (served as one file).
    static let stylesheet = """
        .dash { background: #f8fafc; }
        .skip { position: absolute; left: -9999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: 0.5rem; z-index: 10; }
        .test-banner { background: #f59e0b; color: #111827; text-align: center; padding: 0.5rem 1rem; font-weight: 500; }
        .dash-header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem 1.5rem; padding: 0.75rem 1.25rem;
                       background: #111827; color: #f9fafb; }
        .dash-header a { color: #f9fafb; }
        .dash-org { font-weight: 700; }
        .mode-switch { display: inline-flex; border: 1px solid #6b7280; border-radius: 999px; overflow: hidden; }
        .mode-switch a { padding: 0.25rem 0.875rem; text-decoration: none; }
        .mode-switch a.on { background: #f9fafb; color: #111827; font-weight: 600; }
        .dash-user { margin-left: auto; display: flex; align-items: center; gap: 0.5rem; }
        .dash-user .muted { color: #d1d5db; }
        .dash-user .link-button { color: #f9fafb; width: auto; }
        .dash-nav { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0.5rem 1.25rem; background: #fff; border-bottom: 1px solid #e5e7eb; }
        .dash-nav a { color: var(--text); text-decoration: none; padding: 0.25rem 0; }
        .dash-nav a[aria-current=page] { font-weight: 700; border-bottom: 3px solid var(--brand); }
        .dash-main { max-width: 64rem; margin: 0 auto; padding: 1.25rem; }
        .dash-main h2 { font-size: 1.125rem; margin: 1.5rem 0 0.5rem; }
        .panel { background: #fff; border-radius: 0.75rem; padding: 1rem 1.25rem; margin-bottom: 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
        .panel h2 { margin-top: 0; }
        .form-grid { display: grid; gap: 0.25rem; max-width: 32rem; }
        .form-grid button { width: auto; justify-self: start; margin-top: 0.5rem; }
        .inline { display: inline; }
        .search { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin-bottom: 1rem; }
        .search input { flex: 1 1 14rem; margin: 0; }
        .search button { width: auto; }
        input[type=search], input[type=password], input[type=number], input[type=url], select { display: block; width: 100%;
            margin: 0.25rem 0 0.75rem; padding: 0.625rem; font: inherit; border: 1px solid #d1d5db; border-radius: 0.5rem; background: #fff; }
        .table-wrap { overflow-x: auto; }
        table { width: 100%; border-collapse: collapse; background: #fff; border-radius: 0.5rem; }
        th, td { text-align: left; padding: 0.5rem 0.75rem; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
        th { font-size: 0.875rem; color: #374151; }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.875em; word-break: break-all; }
        .key { font-size: 1.125rem; letter-spacing: 0.05em; }
        .tag { font-size: 0.75rem; background: #e0e7ff; color: #3730a3; padding: 0.1rem 0.4rem; border-radius: 0.25rem; }
        .status { font-size: 0.8125rem; padding: 0.1rem 0.5rem; border-radius: 999px; background: #e5e7eb; }
        .status-active { background: #dcfce7; color: #166534; }
        .status-consumed { background: #e0e7ff; color: #3730a3; }
        .status-revoked, .status-expired { background: #fee2e2; color: #991b1b; }
        .crumbs { margin: 0 0 0.5rem; }
        .button-link { display: inline-block; padding: 0.625rem 1rem; border-radius: 0.5rem; border: 2px solid #d1d5db; font-weight: 600;
                       text-decoration: none; color: var(--text); background: #fff; }
        .button-link.primary { background: var(--brand); border-color: var(--brand); color: #fff; }
        .warning { background: #fef3c7; padding: 0.5rem 0.75rem; border-radius: 0.5rem; font-size: 0.9375rem; }
        .copy-row { display: flex; gap: 0.5rem; align-items: center; }
        .copy-row input { margin: 0; font-family: ui-monospace, monospace; }
        .copy-row button { width: auto; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        dialog { border: 0; border-radius: 0.75rem; padding: 1.25rem 1.5rem; max-width: 34rem; width: calc(100% - 2rem);
                 box-shadow: 0 10px 30px rgba(0,0,0,.25); }
        dialog::backdrop { background: rgba(17,24,39,.5); }
        dialog h2 { margin-top: 0; }
        @media (max-width: 600px) { .dash-main { padding: 0.75rem; } .dash-user { margin-left: 0; } th, td { padding: 0.4rem; } }
        """

    /// The one script (see the type's comment).
    static let script = """
        // Cancelflow dashboard: progressive enhancement only; every page works without this file.
        document.addEventListener('DOMContentLoaded', function () {
          document.querySelectorAll('[data-dialog-open]').forEach(function (opener) {
            var dialog = document.getElementById(opener.getAttribute('data-dialog-open'));
            if (!dialog || typeof dialog.showModal !== 'function') return;
            opener.addEventListener('click', function (event) {
              event.preventDefault();
              dialog.showModal();
              var first = dialog.querySelector('input:checked') || dialog.querySelector('input, select, button');
              if (first) first.focus();
            });
          });
          document.querySelectorAll('[data-dialog-close]').forEach(function (button) {
            button.addEventListener('click', function () { button.closest('dialog').close(); });
          });
          document.querySelectorAll('input[data-warning]').forEach(function (box) {
            var warning = document.getElementById(box.getAttribute('data-warning'));
            var update = function () { if (warning) warning.hidden = box.checked; };
            box.addEventListener('change', update);
            update();
          });
          var status = document.getElementById('copy-status');
          var copy = function (text) {
            if (!navigator.clipboard) return Promise.reject(new Error('no clipboard'));
            return navigator.clipboard.writeText(text).then(function () { if (status) status.textContent = 'Copied to your clipboard.'; });
          };
          document.querySelectorAll('[data-copy]').forEach(function (button) {
            var field = document.getElementById(button.getAttribute('data-copy'));
            button.hidden = false;
            button.addEventListener('click', function () {
              copy(field.value).catch(function () { field.select(); if (status) status.textContent = 'Press Ctrl+C (or ⌘C) to copy.'; });
            });
          });
          var auto = document.querySelector('[data-autocopy]');
          if (auto) { auto.select(); copy(auto.value).catch(function () {}); }
        });
        """
}
