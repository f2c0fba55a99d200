import Mustache

/// The hosted pages' templates. They are compiled into the binary rather than read from a
/// resources folder so that `cancelflow` is one self-contained file; they are parsed once at
/// start-up, and a template that does not parse stops the start-up (tests build the library too).
///
/// Everything a merchant or customer typed is inserted with `{{ }}`, which escapes HTML.
enum Templates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in self.all {
            try library.register(text, named: name)
        }
        return library
    }

    /// English appears only in the mailbox (a developer's page); every other word is a
    /// `{{t.…}}` phrase of the page's language (`Catalogue`), or a value its view worked out.
    static let all: [(String, String)] = [
        ("layout", layout), ("landing", landing), ("choose", choose), ("survey", survey), ("offer", offer),
        ("confirm", confirm), ("done", done), ("nothing", nothing), ("expired", expired), ("problem", problem), ("kept", kept),
        ("verify", verify), ("verify-code", verifyCode), ("mailbox", mailbox), ("email-layout", emailLayout), ("email-code", emailCode),
        ("email-notice", emailNotice), ("email-confirmation", emailConfirmation),
    ]

    static let layout = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{{$title}}{{t.page.title}}{{/title}} · {{brand.name}}</title>
        <link rel="stylesheet" href="/assets/cancelflow.css">
        {{#brand.styleTag}}<style>{{brand.styleTag}}</style>{{/brand.styleTag}}
        </head>
        <body>
        <header class="brand">
          {{#brand.logoUrl}}<img src="{{brand.logoUrl}}" alt="{{brand.name}}" class="logo">{{/brand.logoUrl}}
          {{^brand.logoUrl}}<span class="brand-name">{{brand.name}}</span>{{/brand.logoUrl}}
        </header>
        <main class="card" id="main">
        {{$body}}{{/body}}
        </main>
        {{#keep}}
        <footer class="keep">
          {{#keep.formAction}}
          <form method="post" action="{{keep.formAction}}">
            <input type="hidden" name="csrf" value="{{keep.csrf}}">
            <button type="submit" class="link-button">{{t.page.keep}}</button>
          </form>
          {{/keep.formAction}}
          {{#keep.href}}<a href="{{keep.href}}" class="keep-link">{{t.page.keep}}</a>{{/keep.href}}
        </footer>
        {{/keep}}
        </body>
        </html>
        """

    static let subscriptionList = """
        <ul class="subscriptions">
        {{#subscriptions}}
          <li><strong>{{plan}}</strong>{{#price}} · {{price}}{{/price}}{{#renews}}<br><span class="muted">{{renews}}</span>{{/renews}}</li>
        {{/subscriptions}}
        </ul>
        """

    static let landing = """
        {{<layout}}
        {{$title}}{{t.landing.title}}{{/title}}
        {{$body}}
        <h1>{{heading}}</h1>
        <p>{{t.landing.intro}}</p>
        \(subscriptionList)
        <form method="post" action="{{action}}" class="stack">
          <input type="hidden" name="csrf" value="{{csrf}}">
          {{#clickToCancel}}
          <button type="submit" name="intent" value="cancel" class="danger">{{t.landing.cancel}}</button>
          <button type="submit" class="secondary">{{t.landing.options}}</button>
          {{/clickToCancel}}
          {{^clickToCancel}}<button type="submit" class="primary">{{t.landing.continue}}</button>{{/clickToCancel}}
        </form>
        {{/body}}
        {{/layout}}
        """

    static let choose = """
        {{<layout}}
        {{$title}}{{t.choose.title}}{{/title}}
        {{$body}}
        <h1>{{t.choose.heading}}</h1>
        <form method="post" action="/flow/subscription">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <fieldset>
            <legend>{{t.choose.legend}}</legend>
            {{#subscriptions}}
            <div class="choice">
              <input type="radio" name="subscriptionId" id="sub-{{index}}" value="{{id}}" required>
              <label for="sub-{{index}}"><strong>{{plan}}</strong>{{#price}} · {{price}}{{/price}}</label>
            </div>
            {{/subscriptions}}
          </fieldset>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <button type="submit" class="primary">{{t.page.continue}}</button>
        </form>
        {{/body}}
        {{/layout}}
        """

    static let survey = """
        {{<layout}}
        {{$title}}{{question}}{{/title}}
        {{$body}}
        <h1>{{question}}</h1>
        <p>{{t.survey.intro}}</p>
        <form method="post" action="/flow/survey">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <fieldset>
            <legend>{{t.survey.legend}}</legend>
            {{#reasons}}
            <div class="choice">
              <input type="radio" name="reason" id="reason-{{index}}" value="{{id}}" required>
              <label for="reason-{{index}}">{{text}}</label>
            </div>
            {{/reasons}}
          </fieldset>
          {{#comment}}
          <label for="comment">{{t.survey.comment}} <span class="muted">{{t.survey.optional}}</span></label>
          <textarea id="comment" name="comment" rows="3" maxlength="1000"></textarea>
          {{/comment}}
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <button type="submit" class="primary">{{t.page.continue}}</button>
        </form>
        {{/body}}
        {{/layout}}
        """

    static let offer = """
        {{<layout}}
        {{$title}}{{t.offer.title}}{{/title}}
        {{$body}}
        <h1>{{t.offer.title}}</h1>
        <p class="offer">{{headline}}</p>
        <p>{{detail}}</p>
        <form method="post" action="/flow/offer" class="stack">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <button type="submit" name="decision" value="accept" class="primary">{{acceptLabel}}</button>
          <button type="submit" name="decision" value="decline" class="secondary">{{t.offer.decline}}</button>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        </form>
        {{/body}}
        {{/layout}}
        """

    static let confirm = """
        {{<layout}}
        {{$title}}{{t.confirm.title}}{{/title}}
        {{$body}}
        <h1>{{t.confirm.title}}</h1>
        <p>{{summary}}</p>
        <form method="post" action="/flow/confirm">
          <input type="hidden" name="csrf" value="{{csrf}}">
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <button type="submit" class="danger">{{t.confirm.button}}</button>
        </form>
        {{#offer}}
        <p class="offer">{{headline}}</p>
        <p>{{detail}}</p>
        <form method="post" action="/flow/offer">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <button type="submit" name="decision" value="accept" class="secondary">{{acceptLabel}}</button>
        </form>
        {{/offer}}
        {{/body}}
        {{/layout}}
        """

    static let done = """
        {{<layout}}
        {{$title}}{{heading}}{{/title}}
        {{$body}}
        <h1>{{heading}}</h1>
        <p>{{message}}</p>
        {{#confirmationNote}}<p class="muted">{{confirmationNote}}</p>{{/confirmationNote}}
        {{#contactEmail}}<p><a href="mailto:{{contactEmail}}" class="primary-link">{{contactEmail}}</a></p>{{/contactEmail}}
        {{#contactUrl}}<p><a href="{{contactUrl}}" class="primary-link" rel="noopener">{{t.done.contact}}</a></p>{{/contactUrl}}
        {{#returnUrl}}<p><a href="{{returnUrl}}" class="primary-link">{{t.done.back}}</a></p>{{/returnUrl}}
        {{/body}}
        {{/layout}}
        """

    static let nothing = """
        {{<layout}}
        {{$title}}{{t.nothing.title}}{{/title}}
        {{$body}}
        <h1>{{t.nothing.heading}}</h1>
        <p>{{t.nothing.message}}</p>
        {{/body}}
        {{/layout}}
        """

    static let expired = """
        {{<layout}}
        {{$title}}{{t.expired.title}}{{/title}}
        {{$body}}
        <h1>{{t.expired.title}}</h1>
        <p>{{t.expired.message}}</p>
        <p><a href="{{verifyUrl}}" class="primary-link">{{t.expired.continue}}</a></p>
        {{/body}}
        {{/layout}}
        """

    static let problem = """
        {{<layout}}
        {{$title}}{{t.problem.title}}{{/title}}
        {{$body}}
        <h1>{{heading}}</h1>
        <p>{{message}}</p>
        {{#retryUrl}}<p><a href="{{retryUrl}}" class="primary-link">{{t.problem.retry}}</a></p>{{/retryUrl}}
        {{/body}}
        {{/layout}}
        """

    static let kept = """
        {{<layout}}
        {{$title}}{{t.done.kept.heading}}{{/title}}
        {{$body}}
        <h1>{{t.done.kept.heading}}</h1>
        <p>{{t.kept.message}}</p>
        {{/body}}
        {{/layout}}
        """

    static let verify = """
        {{<layout}}
        {{$title}}{{t.verify.title}}{{/title}}
        {{$body}}
        <h1>{{t.verify.heading}}</h1>
        <p>{{t.verify.intro}}</p>
        <form method="post" action="/verify">
          <input type="hidden" name="csrf" value="{{csrf}}">
          {{#org}}<input type="hidden" name="org" value="{{org}}">{{/org}}
          <label for="email">{{t.verify.email}}</label>
          <input type="email" id="email" name="email" value="{{email}}" autocomplete="email" maxlength="254" required autofocus>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <button type="submit" class="primary">{{t.verify.send}}</button>
        </form>
        {{/body}}
        {{/layout}}
        """

    static let verifyCode = """
        {{<layout}}
        {{$title}}{{t.code.title}}{{/title}}
        {{$body}}
        <h1>{{t.code.heading}}</h1>
        <p>{{t.code.intro}}</p>
        <form method="post" action="/verify/code">
          <input type="hidden" name="csrf" value="{{csrf}}">
          {{#org}}<input type="hidden" name="org" value="{{org}}">{{/org}}
          <label for="code">{{t.code.label}}</label>
          <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7"
                 required autofocus>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <button type="submit" class="primary">{{t.page.continue}}</button>
        </form>
        <p class="muted"><a href="{{restartUrl}}">{{t.code.new}}</a></p>
        {{#mailboxUrl}}<p class="notice">{{t.code.test_mode}} <a href="{{mailboxUrl}}">{{t.code.test_mailbox}}</a></p>{{/mailboxUrl}}
        {{/body}}
        {{/layout}}
        """

    static let mailbox = """
        {{<layout}}
        {{$title}}Test mailbox{{/title}}
        {{$body}}
        <h1>Test mailbox</h1>
        <p class="muted">Test-mode emails this server would have sent, newest first. It has no mail server configured
        (<code>--smtp-url</code>); live-mode emails are never shown here.</p>
        {{#messages}}
        <article class="message">
          <p><strong>{{subject}}</strong><br><span class="muted">To {{to}} · {{sentAt}}</span></p>
          <pre>{{text}}</pre>
        </article>
        {{/messages}}
        {{^messages}}<p>No messages yet.</p>{{/messages}}
        {{/body}}
        {{/layout}}
        """

    /// The frame of every email's HTML part. Mail clients drop `<style>` blocks and external CSS,
    /// so the styles are inline.
    static let emailLayout = """
        <!doctype html>
        <html lang="{{lang}}"><head><meta charset="utf-8"><title>{{subject}}</title></head>
        <body style="margin:0;padding:24px;background:#f3f4f6;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2937">
        <div style="max-width:32rem;margin:0 auto;background:#ffffff;border-radius:12px;padding:24px">
        {{#logoUrl}}<img src="{{logoUrl}}" alt="{{name}}" style="max-height:40px;max-width:192px">{{/logoUrl}}
        {{^logoUrl}}<p style="margin:0;font-weight:700;font-size:18px;color:{{color}}">{{name}}</p>{{/logoUrl}}
        {{$body}}{{/body}}
        </div>
        </body></html>
        """

    static let emailCode = """
        {{<email-layout}}
        {{$body}}
        <p>{{greeting}}</p>
        <p>{{t.email.code.intro}}</p>
        <p style="font-size:32px;font-weight:700;letter-spacing:8px;color:{{color}};margin:16px 0">{{code}}</p>
        <p>{{t.email.code.validity}}</p>
        {{/body}}
        {{/email-layout}}
        """

    static let emailConfirmation = """
        {{<email-layout}}
        {{$body}}
        <p>{{greeting}}</p>
        <p>{{what}}</p>
        <p style="color:#6b7280">{{reference}}</p>
        {{/body}}
        {{/email-layout}}
        """

    static let emailNotice = """
        {{<email-layout}}
        {{$body}}
        <p>{{t.email.hello}}</p>
        <p>{{t.email.notice.body}}</p>
        <p>{{t.email.notice.ignore}}</p>
        {{/body}}
        {{/email-layout}}
        """

    /// The stylesheet, served at `/assets/cancelflow.css`: no external fonts or assets.
    static let stylesheet = """
        :root { --brand: #4f46e5; --text: #1f2937; --muted: #6b7280; --bg: #f3f4f6; --danger: #b91c1c; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text);
               background: var(--bg); }
        .brand { max-width: 36rem; margin: 0 auto; padding: 1.25rem 1rem 0.5rem; }
        .brand-name { font-weight: 700; font-size: 1.125rem; color: var(--brand); }
        .logo { max-height: 2.5rem; max-width: 12rem; }
        .card { max-width: 36rem; margin: 0.5rem auto; padding: 1.5rem; background: #fff; border-radius: 0.75rem;
                box-shadow: 0 1px 3px rgba(0,0,0,.08); }
        h1 { font-size: 1.375rem; line-height: 1.3; margin: 0 0 0.75rem; }
        .muted { color: var(--muted); font-size: 0.9375rem; }
        .subscriptions { list-style: none; padding: 0; margin: 1rem 0; }
        .subscriptions li { padding: 0.75rem; border: 1px solid #e5e7eb; border-radius: 0.5rem; margin-bottom: 0.5rem; }
        fieldset { border: 0; padding: 0; margin: 0 0 1rem; }
        legend { font-weight: 600; margin-bottom: 0.5rem; }
        .choice { display: flex; align-items: center; gap: 0.5rem; padding: 0.5rem 0; }
        .choice input { width: 1.25rem; height: 1.25rem; margin: 0; accent-color: var(--brand); }
        label { cursor: pointer; }
        textarea { display: block; width: 100%; margin: 0.25rem 0 1rem; padding: 0.5rem; font: inherit;
                   border: 1px solid #d1d5db; border-radius: 0.5rem; }
        button, .primary-link { display: inline-block; width: 100%; padding: 0.75rem 1rem; font: inherit; font-weight: 600;
                                text-align: center; border-radius: 0.5rem; border: 2px solid transparent; cursor: pointer;
                                text-decoration: none; }
        .primary, .primary-link { background: var(--brand); color: #fff; }
        .secondary { background: #fff; color: var(--text); border-color: #d1d5db; }
        .danger { background: var(--danger); color: #fff; }
        .stack { display: grid; gap: 0.75rem; }
        button:focus-visible, a:focus-visible, input:focus-visible, textarea:focus-visible { outline: 3px solid #f59e0b;
                                                                                              outline-offset: 2px; }
        .offer { font-size: 1.25rem; font-weight: 700; color: var(--brand); }
        .error { color: var(--danger); font-weight: 600; }
        input[type=email], input[type=text] { display: block; width: 100%; margin: 0.25rem 0 1rem; padding: 0.625rem; font: inherit;
                                              border: 1px solid #d1d5db; border-radius: 0.5rem; }
        #code { font-size: 1.5rem; letter-spacing: 0.3em; }
        .notice { background: #fef3c7; padding: 0.75rem; border-radius: 0.5rem; }
        .message { border-top: 1px solid #e5e7eb; padding-top: 0.75rem; }
        pre { white-space: pre-wrap; word-break: break-word; background: #f9fafb; padding: 0.75rem; border-radius: 0.5rem; }
        .keep { max-width: 36rem; margin: 0 auto 2rem; padding: 0 1rem; text-align: center; }
        .link-button, .keep-link { width: auto; background: none; border: 0; color: var(--text); text-decoration: underline;
                                   font-weight: 500; padding: 0.5rem; }
        @media (max-width: 400px) { .card { margin: 0.5rem; padding: 1rem; } h1 { font-size: 1.25rem; } }
        """
}
