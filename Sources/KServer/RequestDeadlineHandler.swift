import NIOCore
import NIOHTTPTypes

/// A slow client does not hold a connection forever: a request's head must arrive within
/// `headerSeconds` of the connection opening (or of the previous response), and its body within
/// `bodySeconds` of the head; otherwise the connection is closed. (The idle timeout alone lets a
/// client that sends a byte now and then keep a connection, and a thread of the event loop's
/// attention, for as long as it likes.)
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let headerSeconds: Int64
    private let bodySeconds: Int64
    private var timer: Scheduled<Void>?

    init(headerSeconds: Int64, bodySeconds: Int64) {
        self.headerSeconds = headerSeconds
        self.bodySeconds = bodySeconds
    }

    private func arm(_ context: ChannelHandlerContext, seconds: Int64) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: .seconds(seconds)) {
            channel.close(promise: nil)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, seconds: headerSeconds) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, seconds: headerSeconds)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, seconds: bodySeconds)
        case .body: break
        case .end:
            // The request is in; answering it is the server's business, not the client's.
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context, seconds: headerSeconds) }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}
