import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request whose headers are over the decoder's limits with `431 Request Header Fields
/// Too Large` and the usual error body, then closes the connection.
///
/// Hummingbird answers every parser error with an empty `400`; this handler sits after the HTTP
/// codec (an additional channel handler), sees NIO's `headerOverflow` first and answers instead,
/// so a client learns what was wrong. Other parser errors go on to Hummingbird's `400`.
final class HeaderLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A response is being written: too late to answer another.
    private var responding = false

    static let body = #"{"error":{"type":"invalid_request_error","code":"headers_too_large","message":"The request's header fields are too large."}}"#

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational: self.responding = true
        case .end: self.responding = false
        default: break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, parserError == .headerOverflow, !self.responding else {
            context.fireErrorCaught(error)
            return
        }
        self.responding = true
        let body = ByteBuffer(string: Self.body)
        let head = HTTPResponse(
            status: .requestHeaderFieldsTooLarge,
            headerFields: [
                .contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes), .connection: "close",
            ]
        )
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
