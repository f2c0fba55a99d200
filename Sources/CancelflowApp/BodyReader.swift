import CancelflowCore
import Hummingbird
import NIOCore

/// Reading a request body under a deadline.
///
/// The server's idle timeout cuts off a client that trickles its headers, but each body chunk
/// counts as activity: a client could send a 64 KiB body a byte at a time and hold a connection
/// and a handler for hours. Every body the service reads is small, so it must arrive whole
/// within the read timeout. When it does not, the read is cancelled, which ends the
/// connection's input: the client is cut off (there is no way left to answer it a 408).
enum BodyReader {
    static func collect(_ request: inout Request, upTo maximum: Int, within deadline: Duration) async throws -> ByteBuffer {
        let body = request.body
        let buffer = try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
            group.addTask { try await body.collect(upTo: maximum) }
            group.addTask {
                try await Task.sleep(for: deadline)
                throw CancelflowError(.timeout, code: "request_timeout", message: "The request body did not arrive in time.")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        request.body = .init(buffer: buffer)
        return buffer
    }
}
