import CancelflowCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The context every request starts with.
public struct AppRequestContext: RequestContext {
    /// Hummingbird's storage.
    public var coreContext: CoreRequestContextStorage
    /// Set by `APIAuthMiddleware` once the request's credentials check out.
    public var identity: APIIdentity?
    /// The connection, for the peer's address when a request needs it.
    let channel: any Channel
    /// Set by `FlowSessionMiddleware` on `/flow` requests with a valid session.
    var flow: FlowAccess?
    /// Set by `DashboardSessionMiddleware` on signed-in dashboard requests.
    var dashboard: DashboardAccess?

    /// Creates a context for a request.
    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.flow = nil
        self.dashboard = nil
        self.channel = source.channel
    }

    /// The peer's IP address, for per-client limits (nil in in-process tests). Read when asked
    /// rather than for every request: the channel's address is behind a lock, and its text is
    /// formatted anew each time, which `/healthz` and most pages never need.
    public var remoteIP: String? { self.channel.remoteAddress?.ipAddress }

    /// API bodies are small; anything larger is refused before it is read.
    public var maxUploadSize: Int { JSONBody.maximumSize }
}

/// The context of an authenticated `/v1` request: it cannot exist without an identity, so a
/// handler that takes it can never run unauthenticated.
public struct APIRequestContext: ChildRequestContext {
    /// Hummingbird's storage.
    public var coreContext: CoreRequestContextStorage
    /// Who the request is from.
    public let identity: APIIdentity

    /// Fails unless the parent context carries an identity.
    public init(context: AppRequestContext) throws {
        guard let identity = context.identity else {
            throw CancelflowError(.authentication, code: "missing_credentials", message: "Send both the x-ck-app and x-ck-api-key headers.")
        }
        self.coreContext = context.coreContext
        self.identity = identity
    }

    /// API bodies are small.
    public var maxUploadSize: Int { JSONBody.maximumSize }
}

extension RequestContext {
    /// A path parameter as the client meant it. Hummingbird hands path parameters over as they
    /// appear in the URL, still percent-encoded, so `PUT /v1/customers/cus%20x` would store the
    /// text `cus%20x` and a mint naming `cus x` (or an SDK that encodes ids, as generated clients
    /// do) would never find it. A malformed escape is a 400.
    func pathParameter(_ name: String) throws -> String {
        let raw = try self.parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw CancelflowError.invalid("invalid_path", "The address holds a malformed %-escape.", param: name)
        }
        return decoded
    }
}
