/// Hosted → Wording (`DashboardTextsController`).
extension DashboardTemplates {
    static let textsTemplates: [(String, String)] = [("dash-texts", texts)]

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
            {{#long}}<textarea id="p-{{key}}" name="{{key}}" rows="2" maxlength="500" placeholder="{{standard}}">{{value}}</textarea>{{/long}}
            {{^long}}<input type="text" id="p-{{key}}" name="{{key}}" value="{{value}}" maxlength="500" placeholder="{{standard}}">{{/long}}
            {{/phrases}}
            <button type="submit" class="primary">Save {{label}}</button>
          </form>
        </section>
        {{/groups}}
        {{/body}}
        {{/dash-layout}}
        """
}
