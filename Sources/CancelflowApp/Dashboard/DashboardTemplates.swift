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
        for (name, text) in self.all + self.settingsTemplates + self.textsTemplates {
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
}
