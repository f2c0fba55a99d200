import Hummingbird

/// `GET /v1/openapi.json`: openapi.yaml as JSON (embedded at build time by scripts/openapi), with
/// `servers` naming this instance, so that a generator or schemathesis pointed at the document
/// talks to the server that served it.
struct OpenAPIDocumentController: Sendable {
    let body: ByteBuffer

    init(publicBase: String) {
        // The public base is a URL we validated at start-up: it holds no quote or backslash, so
        // it can stand inside the JSON string as it is.
        let served = OpenAPIDocument.json.replacingOccurrences(
            of: "\"url\":\"\(OpenAPIDocument.placeholderServer)\"", with: "\"url\":\"\(publicBase)\"")
        self.body = ByteBuffer(string: served)
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=300",
                    // Public by design: browser-based API tools on other origins may read it.
                    .accessControlAllowOrigin: "*",
                ],
                body: .init(byteBuffer: self.body)
            )
        }
    }
}
