import HTTPTypes
import Hummingbird
import Synchronization

/// Which methods each registered path answers, so that a known path asked with the wrong method
/// gets `405 Method Not Allowed` and an `Allow` header instead of Hummingbird's 404 (its trie
/// router reports both as "no route"). A client that sends `GET` to a `POST`-only endpoint is
/// told what to send, and HTTP tooling (schemathesis among it) sees the semantics it expects.
///
/// Filled once, after every route is registered and before the server starts; read on error
/// paths only, so a linear scan of the 100-odd routes costs nothing on the hot path.
final class RouteMethods: Sendable {
    private let routes = Mutex<[(path: RouterPath, method: HTTPRequest.Method)]>([])

    /// Takes the router's routes; called once the router is complete.
    func load<Context>(from router: Router<Context>) {
        let routes = router.routes.map { (path: $0.path, method: $0.method) }
        self.routes.withLock { $0 = routes }
    }

    /// The methods registered for `path`, in a stable order; empty when no route has that path.
    func allowed(path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = self.routes.withLock { routes in
            routes.filter { Self.matches($0.path, segments) }.map(\.method)
        }
        let names = Set(methods.map { $0.rawValue }).sorted()
        return names.compactMap { HTTPRequest.Method($0) }
    }

    static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
        var index = 0
        for component in path.components {
            if component == .recursiveWildcard { return index < segments.count }
            guard index < segments.count, component ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}
