/// The settings, team, audit, webhook and outcome pages.
extension DashboardTemplates {
    static let settingsTemplates: [(String, String)] = [
        ("dash-keys", keys), ("dash-secret-shown", secretShown), ("dash-billing", billing), ("dash-hosted", hosted), ("dash-team", team),
        ("dash-audit", audit), ("dash-webhooks", webhooks), ("dash-webhook", webhook), ("dash-event", event), ("dash-outcomes", outcomes),
    ]

    static let keys = """
        {{<dash-layout}}
        {{$body}}
        <h1>Cancel Flow API Keys</h1>
        <p>Your backend sends both with every request: <code>x-ck-app</code> and <code>x-ck-api-key</code>. Each mode has its own pair.</p>
        <section class="panel" aria-labelledby="app-title">
          <h2 id="app-title">App ID ({{modeName}})</h2>
          <p><code>{{appID}}</code></p>
        </section>
        <section class="panel" aria-labelledby="keys-title">
          <h2 id="keys-title">API keys ({{modeName}})</h2>
          <p class="muted">Keys are stored only as hashes: a key is shown once, when it is made. Here you see its last four characters.</p>
          <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
            {{#keys}}
            <tr><td><code>{{masked}}</code></td><td>{{created}}</td><td>{{state}}</td>
              <td>{{#revocable}}<form method="post" action="{{frame.base}}/settings/keys/{{id}}/revoke" class="inline"><input type="hidden" name="csrf" value="{{frame.csrf}}"><button type="submit" class="link-button">Revoke now</button></form>{{/revocable}}</td></tr>
            {{/keys}}
            </tbody>
          </table>
          </div>
          <form method="post" action="{{frame.base}}/settings/keys/rotate" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <input type="hidden" name="nonce" value="{{frame.nonce}}">
            <label for="grace">Rotate: a new key, and the current keys stop</label>
            <select id="grace" name="grace">
              <option value="0">now</option>
              <option value="3600">in 1 hour</option>
              <option value="86400" selected>in 24 hours</option>
              <option value="604800">in 7 days</option>
            </select>
            <button type="submit" class="secondary">Rotate key</button>
          </form>
          <form method="post" action="{{frame.base}}/settings/keys/create" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <input type="hidden" name="nonce" value="{{frame.nonce}}">
            <button type="submit" class="secondary">Create another key</button>
            <p class="muted">The existing keys keep working: for a second backend, or to switch over by hand.</p>
          </form>
        </section>
        {{/body}}
        {{/dash-layout}}
        """

    /// A secret shown once (a new API key, a webhook signing secret, an invitation link).
    static let secretShown = """
        {{<dash-layout}}
        {{$body}}
        <h1>{{heading}}</h1>
        <p>{{intro}} It is shown <strong>only now</strong>.</p>
        <div class="copy-row">
          <label for="secret" class="visually-hidden">{{heading}}</label>
          <input type="text" id="secret" value="{{secret}}" readonly>
          <button type="button" class="secondary" data-copy="secret" hidden>Copy</button>
        </div>
        <p id="copy-status" class="muted" role="status"></p>
        {{#detail}}<p>{{detail}}</p>{{/detail}}
        <p><a href="{{backURL}}">{{backText}}</a></p>
        {{/body}}
        {{/dash-layout}}
        """

    static let billing = """
        {{<dash-layout}}
        {{$body}}
        <h1>Billing provider ({{modeName}})</h1>
        <p>Where this mode's customers and subscriptions live, and where the cancel flow carries out what a customer chose.</p>
        <section class="panel" aria-labelledby="now-title">
          <h2 id="now-title">Now</h2>
          <p><strong>{{providerName}}</strong>{{#keyHint}} · key <code>{{keyHint}}</code>{{/keyHint}}{{#apiBase}} · API at <code>{{apiBase}}</code>{{/apiBase}}</p>
          <form method="post" action="{{frame.base}}/settings/billing/test" class="inline">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <button type="submit" class="secondary">Test connection</button>
          </form>
        </section>
        <section class="panel" aria-labelledby="change-title">
          <h2 id="change-title">Change</h2>
          <form method="post" action="{{frame.base}}/settings/billing" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <label for="provider">Provider</label>
            <select id="provider" name="provider">
              {{#providers}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/providers}}
            </select>
            <label for="secretKey">Secret API key <span class="muted">(write-only; leave empty to keep the stored one)</span></label>
            <input type="password" id="secretKey" name="secretKey" autocomplete="off" maxlength="500">
            <label for="pauseBehavior">Stripe: invoices during a pause</label>
            <select id="pauseBehavior" name="pauseBehavior">
              {{#pauseBehaviors}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/pauseBehaviors}}
            </select>
            <label for="apiBase">API address <span class="muted">(optional: a stand-in or proxy; empty for the provider's own)</span></label>
            <input type="url" id="apiBase" name="apiBase" value="{{apiBase}}" maxlength="300">
            <button type="submit" class="primary">Save</button>
          </form>
        </section>
        {{/body}}
        {{/dash-layout}}
        """

    static let hosted = """
        {{<dash-layout}}
        {{$body}}
        <h1>Cancel Flow → Hosted → Setup</h1>
        <p class="muted">These settings are the organization's, for test and live mode alike.
        {{#previewURL}}Preview the hosted pages with the saved settings:
        <a href="{{previewURL}}?step=landing" target="_blank" rel="noopener">landing</a>,
        <a href="{{previewURL}}?step=survey" target="_blank" rel="noopener">survey</a>,
        <a href="{{previewURL}}?step=offer" target="_blank" rel="noopener">offer</a>,
        <a href="{{previewURL}}?step=confirm" target="_blank" rel="noopener">confirmation</a>.{{/previewURL}}
        <a href="{{frame.base}}/hosted/texts">Wording and languages</a>: any phrase of the pages and emails, in your own words.</p>
        <form method="post" action="{{frame.base}}/hosted/setup" class="form-grid">
          <input type="hidden" name="csrf" value="{{frame.csrf}}">
          <h2>Links</h2>
          <label for="sessionLinkExpiration">Session link expiration <span class="muted">(the default of dashboard-generated links; 1 hour to 7 days)</span></label>
          <select id="sessionLinkExpiration" name="sessionLinkExpiration">
            {{#expirations}}<option value="{{seconds}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/expirations}}
          </select>
          <label for="returnUrlAllowlist">Return-URL allow-list <span class="muted">(one host or https origin per line)</span></label>
          <textarea id="returnUrlAllowlist" name="returnUrlAllowlist" rows="3">{{allowlist}}</textarea>
          <h2>Domain</h2>
          <label for="subdomain">Subdomain {{#subdomainBase}}<span class="muted">(under {{subdomainBase}})</span>{{/subdomainBase}}</label>
          <input type="text" id="subdomain" name="subdomain" value="{{subdomain}}" maxlength="63" autocomplete="off">
          <label for="customDomain">Custom domain</label>
          <input type="text" id="customDomain" name="customDomain" value="{{customDomain}}" maxlength="253" autocomplete="off">
          {{#customDomain}}
          <p class="{{#verified}}notice{{/verified}}{{^verified}}warning{{/verified}}">{{#verified}}Verified: links use {{customDomain}}.{{/verified}}{{^verified}}Not verified yet: add a DNS record <code>{{customDomain}} CNAME {{serviceHost}}</code>, then ask your Cancelflow operator to run <code>cancelflow orgs verify-domain --org {{orgID}}</code>. Until then links use {{fallbackHost}}.{{/verified}}</p>
          {{/customDomain}}
          <h2>Branding</h2>
          <label for="name">Display name</label>
          <input type="text" id="name" name="name" value="{{name}}" maxlength="100" required>
          <label for="brandColor">Colour</label>
          <input type="text" id="brandColor" name="brandColor" value="{{brandColor}}" pattern="#[0-9a-fA-F]{6}" maxlength="7" required>
          <label for="logoUrl">Logo URL <span class="muted">(https)</span></label>
          <input type="url" id="logoUrl" name="logoUrl" value="{{logoURL}}" maxlength="500">
          <h2>Flow</h2>
          <p class="muted">The default flow in its simple form: one survey, one offer for every reason. Changing these
          publishes it so; per-reason offers, other offer types, targeted flows and tests are on the
          <a href="{{frame.base}}/flows">Flows</a> page.</p>
          <label for="surveyReasons">Survey reasons <span class="muted">(one per line, 1 to 12)</span></label>
          <textarea id="surveyReasons" name="surveyReasons" rows="7" required>{{reasons}}</textarea>
          <label for="offer">Offer</label>
          <select id="offer" name="offer">
            {{#offers}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/offers}}
          </select>
          <label for="cancelTiming">Cancel timing</label>
          <select id="cancelTiming" name="cancelTiming">
            <option value="period_end" {{#periodEnd}}selected{{/periodEnd}}>At the end of the billing period</option>
            <option value="immediately" {{^periodEnd}}selected{{/periodEnd}}>Immediately</option>
          </select>
          <label for="defaultLocale">Default language <span class="muted">(when neither the link nor the customer's browser names one we speak)</span></label>
          <select id="defaultLocale" name="defaultLocale">
            {{#languages}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/languages}}
          </select>
          <div class="choice">
            <input type="checkbox" id="clickToCancel" name="clickToCancel" value="1" {{#clickToCancel}}checked{{/clickToCancel}}>
            <label for="clickToCancel">Click-to-cancel for every flow: the first page carries the cancel button, with at most one offer and no survey</label>
          </div>
          <button type="submit" class="primary">Save</button>
        </form>
        {{/body}}
        {{/dash-layout}}
        """

    static let team = """
        {{<dash-layout}}
        {{$body}}
        <h1>Team</h1>
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Person</th><th scope="col">Role</th><th scope="col">Sign-in</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
          {{#members}}
          <tr>
            <td>{{label}}{{#name}}<br><span class="muted">{{email}}</span>{{/name}}</td>
            <td>
              <form method="post" action="{{frame.base}}/team/{{id}}/role" class="inline">
                <input type="hidden" name="csrf" value="{{frame.csrf}}">
                <label for="role-{{id}}" class="visually-hidden">Role of {{label}}</label>
                <select id="role-{{id}}" name="role">{{#roles}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/roles}}</select>
                <button type="submit" class="link-button">Change</button>
              </form>
            </td>
            <td>{{state}}</td>
            <td>
              <form method="post" action="{{frame.base}}/team/{{id}}/{{#disabled}}enable{{/disabled}}{{^disabled}}disable{{/disabled}}" class="inline">
                <input type="hidden" name="csrf" value="{{frame.csrf}}">
                <button type="submit" class="link-button">{{#disabled}}Enable{{/disabled}}{{^disabled}}Disable{{/disabled}}</button>
              </form>
              <form method="post" action="{{frame.base}}/team/{{id}}/sign-out" class="inline">
                <input type="hidden" name="csrf" value="{{frame.csrf}}">
                <button type="submit" class="link-button">Sign out everywhere</button>
              </form>
            </td>
          </tr>
          {{/members}}
          </tbody>
        </table>
        </div>
        <section class="panel" aria-labelledby="invite-title">
          <h2 id="invite-title">Invite someone</h2>
          <form method="post" action="{{frame.base}}/team/invite" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <input type="hidden" name="nonce" value="{{frame.nonce}}">
            <label for="email">Email address</label>
            <input type="email" id="email" name="email" maxlength="254" required>
            <label for="role">Role</label>
            <select id="role" name="role">
              <option value="support">Support: customers and Generate Cancel Link</option>
              <option value="admin">Admin: also settings, keys, webhooks, outcomes</option>
              <option value="owner">Owner: everything, including the team</option>
            </select>
            <button type="submit" class="primary">Create set-up link</button>
          </form>
        </section>
        {{/body}}
        {{/dash-layout}}
        """

    static let audit = """
        {{<dash-layout}}
        {{$body}}
        <h1>Audit log</h1>
        <form method="get" action="{{frame.base}}/audit" class="search">
          <label for="action">Show</label>
          <select id="action" name="action">{{#actions}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/actions}}</select>
          <label for="actor">by</label>
          <select id="actor" name="actor">{{#actors}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/actors}}</select>
          <button type="submit" class="secondary">Filter</button>
        </form>
        {{#hasEntries}}
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Mode</th><th scope="col">Details</th></tr></thead>
          <tbody>
          {{#entries}}<tr><td>{{at}}</td><td>{{actor}}</td><td><code>{{action}}</code>{{#target}}<br><code>{{target}}</code>{{/target}}</td><td>{{mode}}</td><td>{{detail}}</td></tr>{{/entries}}
          </tbody>
        </table>
        </div>
        {{/hasEntries}}
        {{^hasEntries}}<p>Nothing recorded{{#filtered}} that matches{{/filtered}}.</p>{{/hasEntries}}
        {{#nextURL}}<p><a href="{{nextURL}}">Older entries</a></p>{{/nextURL}}
        {{/body}}
        {{/dash-layout}}
        """

    static let webhooks = """
        {{<dash-layout}}
        {{$body}}
        <h1>Webhooks ({{modeName}})</h1>
        {{#hasEndpoints}}
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">State</th></tr></thead>
          <tbody>
          {{#endpoints}}<tr><td><a href="{{href}}">{{url}}</a>{{#description}}<br><span class="muted">{{description}}</span>{{/description}}</td><td>{{events}}</td><td>{{state}}</td></tr>{{/endpoints}}
          </tbody>
        </table>
        </div>
        {{/hasEndpoints}}
        {{^hasEndpoints}}<p>No endpoints yet.</p>{{/hasEndpoints}}
        <section class="panel" aria-labelledby="add-title">
          <h2 id="add-title">Add an endpoint</h2>
          <form method="post" action="{{frame.base}}/webhooks" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <input type="hidden" name="nonce" value="{{frame.nonce}}">
            <label for="url">URL <span class="muted">(https; http is allowed in test mode)</span></label>
            <input type="url" id="url" name="url" maxlength="2000" required>
            <label for="description">Description <span class="muted">(optional)</span></label>
            <input type="text" id="description" name="description" maxlength="200">
            <fieldset>
              <legend>Events <span class="muted">(none ticked: all)</span></legend>
              {{#eventTypes}}<div class="choice"><input type="checkbox" id="ev-{{index}}" name="event{{index}}" value="{{value}}"><label for="ev-{{index}}"><code>{{value}}</code></label></div>{{/eventTypes}}
            </fieldset>
            <button type="submit" class="primary">Add endpoint</button>
          </form>
        </section>
        <h2>Event log</h2>
        {{#hasEvents}}
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Created</th></tr></thead>
          <tbody>
          {{#events}}<tr><td><a href="{{href}}"><code>{{id}}</code></a></td><td><code>{{type}}</code></td><td>{{created}}</td></tr>{{/events}}
          </tbody>
        </table>
        </div>
        {{/hasEvents}}
        {{^hasEvents}}<p>No events yet. Events are kept for endpoints that want them.</p>{{/hasEvents}}
        {{#nextURL}}<p><a href="{{nextURL}}">Older events</a></p>{{/nextURL}}
        {{/body}}
        {{/dash-layout}}
        """

    static let webhook = """
        {{<dash-layout}}
        {{$body}}
        <p class="crumbs"><a href="{{frame.base}}/webhooks">Webhooks</a></p>
        <h1>{{url}}</h1>
        <p>{{state}} · events: {{events}}{{#description}} · {{description}}{{/description}} · <code>{{id}}</code></p>
        <div class="actions">
        {{#actions}}
          <form method="post" action="{{action}}" class="inline">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <button type="submit" class="secondary">{{label}}</button>
          </form>
        {{/actions}}
        </div>
        <p class="muted">Rotating the signing secret shows the new one once; the old one signs alongside it for 24 hours.</p>
        {{/body}}
        {{/dash-layout}}
        """

    static let event = """
        {{<dash-layout}}
        {{$body}}
        <p class="crumbs"><a href="{{frame.base}}/webhooks">Webhooks</a></p>
        <h1><code>{{type}}</code></h1>
        <p><code>{{id}}</code> · {{created}}</p>
        <form method="post" action="{{frame.base}}/events/{{id}}/resend" class="inline">
          <input type="hidden" name="csrf" value="{{frame.csrf}}">
          <button type="submit" class="secondary">Resend to every endpoint that wants it</button>
        </form>
        <h2>Deliveries</h2>
        {{#deliveries}}
        <section class="panel">
          <h3>{{endpoint}} · {{status}}</h3>
          {{#nextAttempt}}<p class="muted">Next try {{nextAttempt}}</p>{{/nextAttempt}}
          <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Attempt</th><th scope="col">Answer</th><th scope="col">Took</th><th scope="col">Said</th></tr></thead>
            <tbody>
            {{#attempts}}<tr><td>{{at}}</td><td>{{answer}}</td><td>{{took}}</td><td><code>{{said}}</code></td></tr>{{/attempts}}
            </tbody>
          </table>
          </div>
        </section>
        {{/deliveries}}
        {{^deliveries}}<p>No deliveries.</p>{{/deliveries}}
        <h2>Payload</h2>
        <pre>{{payload}}</pre>
        {{/body}}
        {{/dash-layout}}
        """

    static let outcomes = """
        {{<dash-layout}}
        {{$body}}
        <h1>Outcomes ({{modeName}})</h1>
        <nav class="periods" aria-label="Period">
          {{#periods}}<a href="{{href}}" {{#current}}aria-current="page"{{/current}}>Last {{days}} days</a>{{/periods}}
          <a href="{{csvURL}}">Download flow sessions (CSV)</a>
        </nav>
        <div class="stats">
          <div class="stat"><span class="stat-value">{{minted}}</span><span class="stat-label">links minted</span></div>
          <div class="stat"><span class="stat-value">{{exchanged}}</span><span class="stat-label">links opened</span></div>
          <div class="stat"><span class="stat-value">{{completed}}</span><span class="stat-label">flows completed</span></div>
          <div class="stat"><span class="stat-value">{{saveRate}}</span><span class="stat-label">save rate</span></div>
        </div>
        <p class="muted">Save rate: customers who stayed (kept, or took an offer), out of those who decided (those plus canceled). Abandoned flows are not counted in it.</p>
        {{#hasExperiments}}
        <h2>A/B tests</h2>
        {{#experiments}}
        <h3>{{name}}</h3>
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Variant</th><th scope="col">Sessions</th><th scope="col">Saves</th><th scope="col">Save rate</th><th scope="col">95 % interval (Wilson)</th></tr></thead>
          <tbody>{{#variants}}<tr><td>{{key}}</td><td>{{sessions}}</td><td>{{saves}}</td><td>{{rate}}</td><td>{{interval}}</td></tr>{{/variants}}</tbody>
        </table>
        </div>
        <p class="verdict"><strong>{{verdict}}</strong></p>
        {{/experiments}}
        {{/hasExperiments}}
        <h2 id="outcomes-title">Outcomes</h2>
        {{{outcomeChart}}}
        <div class="table-wrap">
        <table aria-labelledby="outcomes-title">
          <thead><tr><th scope="col">Outcome</th><th scope="col">Flows</th></tr></thead>
          <tbody>{{#outcomes}}<tr><td>{{label}}</td><td>{{count}}</td></tr>{{/outcomes}}</tbody>
        </table>
        </div>
        <h2 id="daily-title">Per day</h2>
        {{{dailyChart}}}
        <h2>Cancellation reasons</h2>
        {{#hasReasons}}
        <ol class="reasons">{{#reasons}}<li><strong>{{reason}}</strong> — {{count}}</li>{{/reasons}}</ol>
        {{/hasReasons}}
        {{^hasReasons}}<p>No survey answers in this period.</p>{{/hasReasons}}
        {{#hasComments}}
        <h3>Comments</h3>
        <ul class="comments">{{#comments}}<li><p>“{{comment}}”</p><p class="muted">{{reason}} · {{at}}</p></li>{{/comments}}</ul>
        {{/hasComments}}
        {{/body}}
        {{/dash-layout}}
        """

    static let settingsStylesheet = """
        textarea { min-height: 4rem; }
        .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.75rem 0; }
        .actions button { width: auto; }
        .periods { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; margin-bottom: 1rem; }
        .periods a[aria-current=page] { font-weight: 700; }
        .tabs { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; margin-bottom: 1rem; }
        textarea.code { font: 0.8125rem/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
        .preview-links { display: flex; flex-wrap: wrap; gap: 0.25rem 0.75rem; font-size: 0.875rem; }
        .tabs a[aria-current=page] { font-weight: 700; }
        .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 0.75rem; margin-bottom: 0.5rem; }
        .stat { background: #fff; border-radius: 0.75rem; padding: 0.75rem 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
        .stat-value { display: block; font-size: 1.75rem; font-weight: 700; }
        .stat-label { color: var(--muted); font-size: 0.875rem; }
        .chart { display: block; width: 100%; max-width: 48rem; height: auto; background: #fff; border-radius: 0.5rem; margin: 0.5rem 0; }
        .comments { list-style: none; padding: 0; } .comments li { background: #fff; border-radius: 0.5rem; padding: 0.5rem 0.75rem; margin-bottom: 0.5rem; }
        .comments p { margin: 0.25rem 0; }
        """
}
