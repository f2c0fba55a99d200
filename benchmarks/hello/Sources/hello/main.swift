// `hello --port N`: answers `GET /hello` with "Hello" on 127.0.0.1:N until SIGINT or SIGTERM.
import Hummingbird

let arguments = CommandLine.arguments
let port = arguments.firstIndex(of: "--port").flatMap { Int(arguments[$0 + 1]) } ?? 8081
let router = Router()
router.get("hello") { _, _ in "Hello" }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hello"))
try await app.runService()
