/// Hosted → Wording (`DashboardTextsController`) and the flows (`DashboardFlowsController`).
extension DashboardTemplates {
    static let textsTemplates: [(String, String)] = [("dash-texts", texts), ("dash-flows", flows), ("dash-flow", flow)]

    static let flows = """
        {{<dash-layout}}
        {{$body}}
        <h1>Cancel Flow → Flows</h1>
        <p class="muted">Each customer gets the first flow whose targeting matches their subscription; the default flow
        catches everyone else. A flow is a document (survey, offers, targeting, variants under test, wording), the same
        one <code>/v1/flows</code> reads and writes. Edits are drafts until published.</p>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Flow</th><th scope="col">For</th><th scope="col">Published</th><th scope="col">Draft</th></tr></thead>
          <tbody>
          {{#flows}}
          <tr><td><a href="{{frame.base}}/flows/{{id}}">{{name}}</a>{{#default}} <span class="muted">(default)</span>{{/default}}</td>
            <td>{{targeting}}</td><td>{{version}}</td><td>{{#draft}}unpublished changes{{/draft}}</td></tr>
          {{/flows}}
          </tbody>
        </table>
        </div>
        <form method="post" action="{{frame.base}}/flows" class="form-grid">
          <input type="hidden" name="csrf" value="{{frame.csrf}}">
          <label for="name">New flow <span class="muted">(starts as a draft copy of the default flow)</span></label>
          <input type="text" id="name" name="name" maxlength="80" required>
          <button type="submit" class="secondary">Create a draft flow</button>
        </form>
        {{/body}}
        {{/dash-layout}}
        """

    static let flow = """
        {{<dash-layout}}
        {{$body}}
        <h1>Flow: {{name}}{{#default}} <span class="muted">(default)</span>{{/default}}</h1>
        <p><a href="{{frame.base}}/flows">All flows</a> · {{#published}}{{published}}{{/published}}{{^published}}Not published yet{{/published}}{{#hasDraft}} · unpublished changes{{/hasDraft}}</p>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <section class="panel" aria-labelledby="edit-title">
          <h2 id="edit-title">{{#hasDraft}}Draft{{/hasDraft}}{{^hasDraft}}Document{{/hasDraft}}</h2>
          <p class="muted">The flow as JSON, as in the API reference (FlowDocument). It is checked whole when saved; a mistake is
          named by its path. The form carries about 8 KiB of JSON (it is sent URL-encoded, in at most 16 KiB); larger
          documents through <code>PUT /v1/flows/{id}/draft</code>.</p>
          <form method="post" action="{{frame.base}}/flows/{{id}}/draft" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <label for="document" class="visually-hidden">Flow document</label>
            <textarea id="document" name="document" rows="24" spellcheck="false" class="code">{{document}}</textarea>
            <button type="submit" class="primary">Save draft</button>
          </form>
          {{#previews.0}}<p>Preview the draft (test mode):</p>
          <p class="preview-links">{{#previews}}<a href="{{href}}" target="_blank" rel="noopener">{{label}}</a> {{/previews}}</p>{{/previews.0}}
          <div class="actions">
            {{#hasDraft}}
            <form method="post" action="{{frame.base}}/flows/{{id}}/publish" class="inline"><input type="hidden" name="csrf" value="{{frame.csrf}}"><button type="submit" class="primary">Publish the draft</button></form>
            <form method="post" action="{{frame.base}}/flows/{{id}}/discard" class="inline"><input type="hidden" name="csrf" value="{{frame.csrf}}"><button type="submit" class="secondary">Discard the draft</button></form>
            {{/hasDraft}}
            {{^default}}<form method="post" action="{{frame.base}}/flows/{{id}}/archive" class="inline"><input type="hidden" name="csrf" value="{{frame.csrf}}"><button type="submit" class="secondary">Archive this flow</button></form>{{/default}}
          </div>
        </section>
        <section class="panel" aria-labelledby="versions-title">
          <h2 id="versions-title">Published versions</h2>
          <ul>
          {{#versions}}<li>Version {{version}}, {{at}} by {{by}}{{#current}} <strong>(current)</strong>{{/current}}
            {{^current}}<form method="post" action="{{frame.base}}/flows/{{id}}/restore" class="inline"><input type="hidden" name="csrf" value="{{frame.csrf}}"><input type="hidden" name="version" value="{{version}}"><button type="submit" class="link-button">Restore</button></form>{{/current}}</li>{{/versions}}
          </ul>
        </section>
        {{/body}}
        {{/dash-layout}}
        """

    static let texts = """
        {{<dash-layout}}
        {{$body}}
        <h1>Cancel Flow → Hosted → Wording</h1>
        <p class="muted">The words of the hosted pages and of the emails customers get, in each language we speak. A customer
        reads the language of their link (<code>locale</code>), else their browser's, else the default set in
        <a href="{{frame.base}}/hosted/setup">Setup</a>. Leave a field empty for the standard wording, shown greyed in it.
        Words in braces, like <code>{brand}</code>, are filled in for each customer; a phrase may use only those it shows.
        A flow may change phrases again for its own customers (its <code>texts</code>).</p>
        <nav aria-label="Languages" class="tabs">
          {{#languages}}<a href="{{frame.base}}/hosted/texts?lang={{value}}" {{#current}}aria-current="page"{{/current}}>{{label}}</a> {{/languages}}
        </nav>
        <p>{{languageName}}: {{overridden}} phrase(s) in your own words.
        {{#previewURL}}<a href="{{previewURL}}" target="_blank" rel="noopener">Preview the pages in {{languageName}}</a>.{{/previewURL}}</p>
        {{#groups}}
        <section class="panel" aria-labelledby="group-{{id}}" id="{{id}}">
          <h2 id="group-{{id}}">{{label}}</h2>
          <form method="post" action="{{frame.base}}/hosted/texts" class="form-grid">
            <input type="hidden" name="csrf" value="{{frame.csrf}}">
            <input type="hidden" name="lang" value="{{language}}">
            <input type="hidden" name="group" value="{{id}}">
            {{#phrases}}
            <label for="p-{{key}}"><code>{{key}}</code>{{#english}} <span class="muted">({{english}})</span>{{/english}}</label>
            <input type="text" id="p-{{key}}" name="{{key}}" value="{{value}}" maxlength="500" placeholder="{{standard}}" title="{{standard}}">
            {{/phrases}}
            <button type="submit" class="primary">Save {{label}}</button>
          </form>
        </section>
        {{/groups}}
        {{/body}}
        {{/dash-layout}}
        """
}
