import Mustache

// Mustache looks a name up through `MustacheParent` when a value offers it, and through
// `Mirror` reflection otherwise; reflection was a third of the CPU time of rendering a page
// (measured with perf under load), so every view answers its names directly. Generated from the
// stored properties of each view; a view gaining a property needs a line here too, and the
// page tests render every template, so a missing one shows up as a missing value.

extension BrandView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "name": self.name
        case "logoUrl": self.logoUrl
        case "styleTag": self.styleTag
        default: nil
        }
    }
}

extension KeepView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "formAction": self.formAction
        case "csrf": self.csrf
        case "href": self.href
        default: nil
        }
    }
}

extension SubscriptionView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "index": self.index
        case "id": self.id
        case "plan": self.plan
        case "price": self.price
        case "renews": self.renews
        default: nil
        }
    }
}

extension ReasonView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "index": self.index
        case "id": self.id
        case "text": self.text
        default: nil
        }
    }
}

extension LandingView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "keep": self.keep
        case "heading": self.heading
        case "subscriptions": self.subscriptions
        case "action": self.action
        case "csrf": self.csrf
        case "clickToCancel": self.clickToCancel
        default: nil
        }
    }
}

extension ChooseView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "keep": self.keep
        case "csrf": self.csrf
        case "error": self.error
        case "subscriptions": self.subscriptions
        default: nil
        }
    }
}

extension SurveyView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "keep": self.keep
        case "csrf": self.csrf
        case "error": self.error
        case "reasons": self.reasons
        case "question": self.question
        case "comment": self.comment
        default: nil
        }
    }
}

extension OfferView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "keep": self.keep
        case "csrf": self.csrf
        case "headline": self.headline
        case "detail": self.detail
        case "acceptLabel": self.acceptLabel
        case "error": self.error
        default: nil
        }
    }
}

extension ConfirmView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "keep": self.keep
        case "csrf": self.csrf
        case "summary": self.summary
        case "error": self.error
        case "offer": self.offer
        default: nil
        }
    }
}

extension NothingView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        default: nil
        }
    }
}

extension DoneView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "heading": self.heading
        case "message": self.message
        case "returnUrl": self.returnUrl
        case "contactEmail": self.contactEmail
        case "confirmationNote": self.confirmationNote
        case "contactUrl": self.contactUrl
        default: nil
        }
    }
}

extension ExpiredView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "verifyUrl": self.verifyUrl
        default: nil
        }
    }
}

extension ProblemView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "heading": self.heading
        case "message": self.message
        case "retryUrl": self.retryUrl
        default: nil
        }
    }
}

extension KeptView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        default: nil
        }
    }
}

extension VerifyView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "csrf": self.csrf
        case "org": self.org
        case "email": self.email
        case "error": self.error
        default: nil
        }
    }
}

extension VerifyCodeView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "csrf": self.csrf
        case "org": self.org
        case "error": self.error
        case "restartUrl": self.restartUrl
        case "mailboxUrl": self.mailboxUrl
        default: nil
        }
    }
}

extension MailboxMessageView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "to": self.to
        case "subject": self.subject
        case "text": self.text
        case "sentAt": self.sentAt
        default: nil
        }
    }
}

extension MailboxView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "brand": self.brand
        case "messages": self.messages
        default: nil
        }
    }
}

extension EmailBrandView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "name": self.name
        case "logoUrl": self.logoUrl
        case "color": self.color
        default: nil
        }
    }
}

extension CodeEmailView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "subject": self.subject
        case "name": self.name
        case "logoUrl": self.logoUrl
        case "color": self.color
        case "greeting": self.greeting
        case "code": self.code
        default: nil
        }
    }
}

extension NoticeEmailView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "subject": self.subject
        case "name": self.name
        case "logoUrl": self.logoUrl
        case "color": self.color
        default: nil
        }
    }
}

extension ConfirmationEmailView: MustacheParent {
    func child(named: String) -> Any? {
        switch named {
        case "subject": self.subject
        case "name": self.name
        case "logoUrl": self.logoUrl
        case "color": self.color
        case "greeting": self.greeting
        case "what": self.what
        case "reference": self.reference
        default: nil
        }
    }
}
