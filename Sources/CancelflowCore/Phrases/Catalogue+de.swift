// German phrases (de), formal register: the customer is addressed as "Sie" (Ihr, Ihnen); "{percent}\u{00A0}%", quotes „…“.
extension Catalogue {
    static let de: [String: String] = [
        // Every page
        "page.title": "Abonnement verwalten",
        "page.keep": "Abonnement behalten",
        "page.continue": "Weiter",
        "subscription.plan": "Abonnement",
        "subscription.renews": "Verlängert sich am {date}",
        "subscription.price.month": "{price} / Monat",
        "subscription.price.year": "{price} / Jahr",

        // The landing page of a Cancel Link
        "landing.title": "Abonnement kündigen",
        "landing.heading": "Schade, dass Sie gehen",
        "landing.heading.named": "Hallo {name}, schade, dass Sie gehen",
        "landing.intro": "Sie sind dabei, Ihr Abonnement bei {brand} zu kündigen. Das dauert nur eine Minute.",
        "landing.cancel": "Abonnement kündigen",
        "landing.options": "Erst meine Optionen ansehen",
        "landing.continue": "Weiter zur Kündigung",

        // Choosing one of several subscriptions
        "choose.title": "Abonnement auswählen",
        "choose.heading": "Welches Abonnement möchten Sie kündigen?",
        "choose.legend": "Ihre Abonnements",

        // The survey
        "survey.question": "Warum möchten Sie kündigen?",
        "survey.intro": "Ihre Antwort hilft {brand}, besser zu werden.",
        "survey.legend": "Hauptgrund",
        "survey.comment": "Möchten Sie uns noch etwas mitteilen?",
        "survey.optional": "(optional)",

        // Offers
        "offer.title": "Bevor Sie gehen",
        "offer.decline": "Nein danke, weiter zur Kündigung",
        "offer.pause.headline.one": "Lieber {count} Monat pausieren?",
        "offer.pause.headline.other": "Lieber {count} Monate pausieren?",
        "offer.pause.detail": "Während der Pause zahlen Sie nichts, und wenn Sie zurückkommen, ist alles noch da.",
        "offer.pause.accept": "Abonnement pausieren",
        "offer.discount.headline.one": "Bleiben Sie und erhalten Sie {count} Monat lang {percent}\u{00A0}% Rabatt",
        "offer.discount.headline.other": "Bleiben Sie und erhalten Sie {count} Monate lang {percent}\u{00A0}% Rabatt",
        "offer.discount.detail": "Der Rabatt gilt für Ihr Abonnement ab Ihrer nächsten Rechnung.",
        "offer.discount.detail.plan": "Der Rabatt gilt für Ihren Tarif „{plan}“ ab Ihrer nächsten Rechnung.",
        "offer.discount.accept": "{percent}\u{00A0}% Rabatt annehmen",
        "offer.plan_change.headline": "Zu einem passenderen Tarif wechseln?",
        "offer.plan_change.detail": "Behalten Sie {brand} zum günstigeren Preis: Wechseln Sie zum Tarif „{plan}“.",
        "offer.plan_change.detail.price": "Behalten Sie {brand} zum günstigeren Preis: Wechseln Sie zum Tarif „{plan}“ für {price}.",
        "offer.plan_change.accept": "Zu {plan} wechseln",
        "offer.trial_extension.headline.one": "{count} weiteren Tag kostenlos nutzen?",
        "offer.trial_extension.headline.other": "{count} weitere Tage kostenlos nutzen?",
        "offer.trial_extension.detail": "Bis zum Ende dieses Zeitraums zahlen Sie nichts.",
        "offer.trial_extension.accept": "Kostenlos verlängern",
        "offer.contact.headline": "Möchten Sie vorher mit uns sprechen?",
        "offer.contact.detail": "Vielleicht kann unser Team lösen, was für Sie nicht funktioniert.",
        "offer.contact.accept": "Support kontaktieren",
        "offer.redirect.headline": "Bevor Sie gehen: Das könnte helfen",
        "offer.redirect.detail": "Wir haben eine Antwort auf Ihr Anliegen zusammengestellt.",
        "offer.redirect.accept": "Anzeigen",

        // Confirming the cancellation
        "confirm.title": "Kündigung bestätigen",
        "confirm.button": "Abonnement kündigen",
        "confirm.now": "Ihr Abonnement wird mit sofortiger Wirkung gekündigt.",
        "confirm.now.plan": "Ihr Abonnement „{plan}“ wird mit sofortiger Wirkung gekündigt.",
        "confirm.end": "Ihr Abonnement endet mit Ablauf des aktuellen Abrechnungszeitraums. Es fallen keine weiteren Kosten an.",
        "confirm.end.plan": "Ihr Abonnement „{plan}“ endet mit Ablauf des aktuellen Abrechnungszeitraums. Es fallen keine weiteren Kosten an.",
        "confirm.until": "Ihr Abonnement bleibt bis zum {date} aktiv und endet dann. Es fallen keine weiteren Kosten an.",
        "confirm.until.plan": "Ihr Abonnement „{plan}“ bleibt bis zum {date} aktiv und endet dann. Es fallen keine weiteren Kosten an.",

        // The last page
        "done.canceled.heading": "Ihr Abonnement ist gekündigt",
        "done.canceled.end": "Sie behalten den Zugang bis zum Ende des bereits bezahlten Zeitraums. Schade, dass Sie gehen.",
        "done.canceled.now": "Es wurde sofort beendet. Schade, dass Sie gehen.",
        "done.paused.heading": "Ihr Abonnement ist pausiert",
        "done.paused.message": "Während der Pause zahlen Sie nichts.",
        "done.paused.until": "Bis zum {date} zahlen Sie nichts.",
        "done.discounted.heading": "Ihr Rabatt ist aktiv",
        "done.plan_changed.heading": "Ihr Tarif wurde geändert",
        "done.trial_extended.heading": "Ihr kostenloser Zeitraum wurde verlängert",
        "done.thanks": "Danke, dass Sie {brand} treu bleiben.",
        "done.contacted.heading": "Wir helfen Ihnen gern",
        "done.contacted.message": "Es hat sich nichts geändert. Teilen Sie {brand} mit, was nicht funktioniert – Sie erhalten dann eine Antwort.",
        "done.kept.heading": "Ihr Abonnement läuft weiter",
        "done.kept.message": "Es hat sich nichts geändert.",
        "done.abandoned.heading": "Diese Sitzung ist beendet",
        "done.abandoned.message":
            "Es hat sich nichts geändert. Um neu zu beginnen, öffnen Sie einen neuen Link von {brand} oder bestätigen Sie Ihre E-Mail-Adresse.",
        "done.contact": "{brand} kontaktieren",
        "done.back": "Zurück zu {brand}",
        "done.confirmation.sent": "Wir senden eine Bestätigung an {email} (Referenz {reference}).",
        "done.confirmation.failed": "Wir konnten Ihnen keine Bestätigung per E-Mail senden. Ihre Referenz lautet {reference}.",
        "done.your_address": "Ihre E-Mail-Adresse",

        // Dead ends
        "nothing.title": "Nichts zu kündigen",
        "nothing.heading": "Es gibt nichts zu kündigen",
        "nothing.message":
            "Wir konnten kein aktives Abonnement finden, das gekündigt werden kann. Wenn Sie das für einen Fehler halten, wenden Sie sich an {brand}.",
        "kept.message": "Es hat sich nichts geändert. Sie können diese Seite schließen.",
        "expired.title": "Dieser Link ist abgelaufen",
        "expired.message":
            "Zu Ihrer Sicherheit funktionieren Kündigungslinks nur einmal und nur für begrenzte Zeit. Sie können Ihr Abonnement trotzdem verwalten: Wir senden Ihnen einen Einmalcode per E-Mail, um zu bestätigen, dass Sie es sind.",
        "expired.continue": "Weiter mit E-Mail-Bestätigung",
        "problem.title": "Etwas ist schiefgelaufen",
        "problem.retry": "Erneut versuchen",
        "problem.load.heading": "Ihr Abonnement konnte nicht geladen werden",
        "problem.load.message":
            "Bitte versuchen Sie es in ein paar Minuten erneut oder wenden Sie sich an das Unternehmen, bei dem Sie Ihr Abonnement haben.",
        "problem.stale.heading": "Bitte versuchen Sie es erneut",
        "problem.stale.landing": "Diese Seite war zu lange oder in einem anderen Browser geöffnet. Laden Sie sie neu, um fortzufahren.",
        "problem.stale.flow": "Diese Seite war in einem anderen Browser geöffnet oder ist abgelaufen. Laden Sie sie neu, um fortzufahren.",
        "problem.unknown.heading": "Wir konnten nicht erkennen, zu wem diese Seite gehört",
        "problem.unknown.message":
            "Um Ihr Abonnement zu verwalten, öffnen Sie den Link des Unternehmens, bei dem Sie es abgeschlossen haben, oder den Link aus dessen E-Mails.",

        // Errors shown on a step's page
        "error.subscription_invalid": "Wählen Sie eines der angezeigten Abonnements.",
        "error.reason_invalid": "Wählen Sie einen der angezeigten Gründe.",
        "error.comment_too_long": "Bitte kürzen Sie Ihren Kommentar auf unter 1.000 Zeichen.",
        "error.offer_unavailable": "In diesem Schritt gibt es kein Angebot, auf das Sie antworten können.",
        "error.not_ready": "Bitte beantworten Sie zuerst die vorherigen Schritte.",
        "error.session_closed": "Diese Kündigungssitzung ist beendet.",
        "error.provider_failed": "Das hat gerade nicht geklappt. Es hat sich nichts geändert; bitte versuchen Sie es gleich noch einmal.",
        "error.provider_unconfirmed":
            "Die Änderung wurde nicht rechtzeitig bestätigt. Wir prüfen, was passiert ist, bevor wir weitere Schritte unternehmen; bitte versuchen Sie es in einer Minute erneut.",
        "error.in_progress":
            "Wir bestätigen noch Ihre letzte Anfrage. Bis das geklärt ist, geschieht nichts weiter; bitte laden Sie diese Seite in einer Minute neu.",

        // Email verification
        "verify.title": "E-Mail-Adresse bestätigen",
        "verify.heading": "Abonnement verwalten",
        "verify.intro":
            "Geben Sie die E-Mail-Adresse ein, die Sie bei {brand} verwenden. Wir senden Ihnen einen Einmalcode per E-Mail, um zu bestätigen, dass Sie es sind.",
        "verify.email": "E-Mail-Adresse",
        "verify.send": "Code per E-Mail senden",
        "verify.stale": "Diese Seite war zu lange geöffnet. Bitte versuchen Sie es erneut.",
        "verify.email_invalid": "Geben Sie eine E-Mail-Adresse wie name@example.com ein.",
        "verify.provider_failed": "Wir konnten Ihr Abonnement gerade nicht prüfen. Bitte versuchen Sie es in ein paar Minuten erneut.",
        "verify.rate_limited":
            "Es wurden zu viele Codes angefordert. Bitte warten Sie eine Weile (bis zu einer Stunde) und versuchen Sie es dann erneut.",
        "verify.send_failed": "Wir konnten die E-Mail gerade nicht senden. Bitte versuchen Sie es in ein paar Minuten erneut.",
        "code.title": "Code eingeben",
        "code.heading": "Prüfen Sie Ihr Postfach",
        "code.intro":
            "Falls zu dieser Adresse ein Abonnement bei {brand} gehört, haben wir einen 6-stelligen Code dorthin gesendet. Er ist 15 Minuten lang gültig.",
        "code.label": "Code",
        "code.new": "Neuen Code senden",
        "code.test_mode": "Testmodus: Auf diesem Server ist kein Mailserver eingerichtet, daher landen die Nachrichten im Testpostfach.",
        "code.test_mailbox": "Testpostfach öffnen",
        "code.rate_limited": "Zu viele Versuche. Bitte warten Sie eine Weile (bis zu einer Stunde) und versuchen Sie es dann erneut.",
        "code.wrong.one": "Dieser Code ist nicht richtig. Sie haben noch {count} Versuch.",
        "code.wrong.other": "Dieser Code ist nicht richtig. Sie haben noch {count} Versuche.",
        "code.exhausted": "Zu viele falsche Codes: Dieser Code funktioniert nicht mehr. Fordern Sie einen neuen an.",
        "code.too_many": "Heute wurden zu viele falsche Codes für diese Adresse eingegeben. Bitte versuchen Sie es morgen erneut.",
        "code.expired": "Dieser Code ist abgelaufen oder wurde bereits verwendet. Fordern Sie einen neuen an.",

        // Emails
        "email.hello": "Hallo,",
        "email.hi": "Hallo {name},",
        "email.code.subject": "{code} ist Ihr Bestätigungscode für {brand}",
        "email.code.intro": "Mit diesem Code verwalten Sie Ihr Abonnement bei {brand}:",
        "email.code.validity":
            "Er ist 15 Minuten lang gültig. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail: Ohne den Code ändert sich nichts.",
        "email.notice.subject": "Ihr Abonnement bei {brand}",
        "email.notice.body":
            "Jemand, hoffentlich Sie, wollte mit dieser E-Mail-Adresse ein Abonnement bei {brand} verwalten, aber wir konnten dazu kein Abonnement finden. Falls Sie Ihr Abonnement mit einer anderen Adresse abgeschlossen haben, versuchen Sie es bitte mit dieser Adresse.",
        "email.notice.ignore": "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Es hat sich nichts geändert.",
        "email.reference": "Referenz: {reference}. Bitte geben Sie sie an, wenn Sie {brand} kontaktieren.",
        "email.canceled.subject": "Ihr Abonnement bei {brand} ist gekündigt",
        "email.canceled.until": "Ihr Abonnement ist gekündigt. Sie behalten den Zugang bis zum {date}, und es fallen keine weiteren Kosten an.",
        "email.canceled.until.plan":
            "Ihr Abonnement „{plan}“ ist gekündigt. Sie behalten den Zugang bis zum {date}, und es fallen keine weiteren Kosten an.",
        "email.canceled.now": "Ihr Abonnement ist mit Wirkung zum {date} gekündigt. Es fallen keine weiteren Kosten an.",
        "email.canceled.now.plan": "Ihr Abonnement „{plan}“ ist mit Wirkung zum {date} gekündigt. Es fallen keine weiteren Kosten an.",
        "email.paused.subject": "Ihr Abonnement bei {brand} ist pausiert",
        "email.paused.from": "Ihr Abonnement ist ab dem {date} pausiert. Während der Pause zahlen Sie nichts.",
        "email.paused.from.plan": "Ihr Abonnement „{plan}“ ist ab dem {date} pausiert. Während der Pause zahlen Sie nichts.",
        "email.paused.until": "Ihr Abonnement ist vom {date} bis zum {until} pausiert. Während der Pause zahlen Sie nichts.",
        "email.paused.until.plan": "Ihr Abonnement „{plan}“ ist vom {date} bis zum {until} pausiert. Während der Pause zahlen Sie nichts.",
        "email.discounted.subject": "Ihr Rabatt bei {brand} ist aktiv",
        "email.discounted.one": "{percent}\u{00A0}% Rabatt auf Ihr Abonnement für {count} Monat, ab Ihrer Rechnung vom {date}.",
        "email.discounted.other": "{percent}\u{00A0}% Rabatt auf Ihr Abonnement für {count} Monate, ab Ihrer Rechnung vom {date}.",
        "email.discounted.plan.one": "{percent}\u{00A0}% Rabatt auf Ihr Abonnement „{plan}“ für {count} Monat, ab Ihrer Rechnung vom {date}.",
        "email.discounted.plan.other": "{percent}\u{00A0}% Rabatt auf Ihr Abonnement „{plan}“ für {count} Monate, ab Ihrer Rechnung vom {date}.",
        "email.plan_changed.subject": "Ihr Tarif bei {brand} wurde geändert",
        "email.plan_changed": "Ab dem {date} läuft Ihr Abonnement im Tarif „{plan}“.",
        "email.trial_extended.subject": "Ihr kostenloser Zeitraum bei {brand} wurde verlängert",
        "email.trial_extended": "Ihr kostenloser Zeitraum läuft jetzt bis zum {date}. Bis dahin zahlen Sie nichts.",
        "email.changed.subject": "Ihr Abonnement bei {brand} wurde geändert",
        "email.changed": "Ihr Abonnement wurde mit Wirkung zum {date} geändert.",
        "email.changed.plan": "Ihr Abonnement „{plan}“ wurde mit Wirkung zum {date} geändert.",
    ]
}
