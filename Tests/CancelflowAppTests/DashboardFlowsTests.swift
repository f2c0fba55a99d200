import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Cancel Flow → Flows in the dashboard: the documents edited as JSON, checked whole, previewed
/// in test mode in any language, published and restored, with drafts never reaching customers.
@Suite struct DashboardFlowsTests {
    static func draftQuestion(_ document: String, _ question: String) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])
        var survey = try #require(object["survey"] as? [String: Any])
        survey["question"] = ["en": question, "fr": "Pourquoi nous quittez-vous vraiment ?"]
        object["survey"] = survey
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// The text of the page's flow document textarea, unescaped.
    static func textarea(_ page: String) throws -> String {
        let start = try #require(page.range(of: #"<textarea id="document" name="document""#))
        let open = try #require(page[start.upperBound...].range(of: ">"))
        let close = try #require(page[open.upperBound...].range(of: "</textarea>"))
        return String(page[open.upperBound..<close.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test(arguments: TestEngine.allCases)
    func aDraftIsCheckedPreviewedPublishedAndRestored(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: CancelFlowTests.config) { client, ctx in
            try await ctx.seedCustomer()
            let admin = try await DashboardTests.signedIn(client, ctx, email: "ann@example.com", role: .admin)
            let list = try await admin.get("/dashboard/test/flows")
            #expect(list.status == .ok && list.text.contains("(default)"), "\(list.text)")
            let id = try await ctx.services.flowConfig.defaultFlow(organizationID: ctx.organization.id).id
            let page = try await admin.get("/dashboard/test/flows/\(id)")
            let original = try Self.textarea(page.text)
            #expect(original.contains("\"reasons\""), "\(original)")

            // A document with a mistake is refused, naming where; nothing is stored.
            let broken = original.replacingOccurrences(of: "\"offer\" : \"discount\"", with: "\"offer\" : \"nope\"")
                .replacingOccurrences(of: "\"fallbackOffer\" : \"discount\"", with: "\"fallbackOffer\" : \"nope\"")
            let refused = try await admin.post("/dashboard/test/flows/\(id)/draft", ["document": broken])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("(at fallbackOffer)"), "\(refused.text.prefix(3000))")
            #expect(try await ctx.services.flowConfig.flow(id: id, organizationID: ctx.organization.id).draft == nil)
            let typo = try await admin.post(
                "/dashboard/test/flows/\(id)/draft", ["document": #"{"name": "x", "survey": {"reasons": []}, "ofers": []}"#])
            #expect(typo.status == .unprocessableContent && typo.text.contains("ofers"))

            // A draft: previewed in French, never shown to customers until published.
            _ = try await admin.get("/dashboard/test/flows/\(id)")
            let saved = try await admin.post(
                "/dashboard/test/flows/\(id)/draft", ["document": try Self.draftQuestion(original, "What made you decide?")])
            #expect(saved.status == .seeOther, "\(saved.text.prefix(2000))")
            let preview = try await admin.get("/dashboard/test/hosted/preview?flow=\(id)&step=survey&lang=fr")
            #expect(preview.text.contains("Pourquoi nous quittez-vous vraiment ?") && preview.text.contains(#"<html lang="fr">"#))
            let before = try await CancelFlowTests.start(client, ctx)
            #expect(!(try await before.get("/flow").text.contains("What made you decide?")), "a draft reached a customer")

            _ = try await admin.get("/dashboard/test/flows/\(id)")
            #expect(try await admin.post("/dashboard/test/flows/\(id)/publish").status == .seeOther)
            let after = try await CancelFlowTests.start(client, ctx)
            #expect(try await after.get("/flow").text.contains("What made you decide?"))
            let published = try #require(try await ctx.services.flowConfig.flow(id: id, organizationID: ctx.organization.id).published)
            #expect(published.version == 2 && published.publishedBy?.hasPrefix("dashboard:") == true)

            // Restoring version 1 publishes it again, as version 3.
            _ = try await admin.get("/dashboard/test/flows/\(id)")
            #expect(try await admin.post("/dashboard/test/flows/\(id)/restore", ["version": "1"]).status == .seeOther)
            let restored = try #require(try await ctx.services.flowConfig.flow(id: id, organizationID: ctx.organization.id).published)
            #expect(restored.version == 3 && restored.document.survey.question == nil)
            let audit = try await admin.get("/dashboard/test/audit").text
            #expect(audit.contains("flow.published") && audit.contains("flow.restored"))

            // A new flow starts as a draft, and can be archived.
            _ = try await admin.get("/dashboard/test/flows")
            let created = try await admin.post("/dashboard/test/flows", ["name": "Yearly customers"])
            #expect(created.status == .seeOther)
            let location = try #require(created.headers[.location])
            #expect(try await admin.get(location).text.contains("Not published yet"))
            let newID = String(try #require(location.split(separator: "/").last?.split(separator: "?").first))
            #expect(try await admin.post("/dashboard/test/flows/\(newID)/archive").status == .seeOther)
            #expect(try await ctx.services.flowConfig.flow(id: newID, organizationID: ctx.organization.id).isArchived)

            // Support staff do not edit flows.
            let support = try await DashboardTests.signedIn(client, ctx, email: "sam@example.com", role: .support)
            #expect(try await support.get("/dashboard/test/flows").status == .forbidden)
        }
    }
}
