import GRPCEchoSupport
import NIOCore
import NIOHPACK
import NIOHTTP2

/// The unary call every gRPC server gets: `/skein.bench.Echo/Visit` with the same name bytes
/// the Thrift servers get as `Name`, sent as a raw message (no protobuf).
struct GRPCVisitRequest: Sendable {
  /// The request headers, the same for every call but `:authority`.
  let headers: HPACKHeaders
  /// The length-prefixed message (compression flag, 4-byte length, bytes).
  let message: ByteBuffer
  /// The length-prefixed reply every call must get.
  let expectedReply: ByteBuffer

  /// Builds the call for a server on 127.0.0.1:`port` with a `payload`-byte name.
  init(port: Int, payload: Int) {
    headers = HPACKHeaders([
      (":method", "POST"),
      (":scheme", "http"),
      (":path", GRPCEcho.path),
      (":authority", "127.0.0.1:\(port)"),
      ("content-type", "application/grpc"),
      ("te", "trailers"),
    ])
    let name = (0..<payload).map { UInt8(97 + $0 % 26) }
    var message = ByteBuffer()
    message.writeInteger(UInt8(0))
    message.writeInteger(UInt32(name.count))
    message.writeBytes(name)
    self.message = message
    let reply = GRPCEcho.greeting + name
    var expected = ByteBuffer()
    expected.writeInteger(UInt8(0))
    expected.writeInteger(UInt32(reply.count))
    expected.writeBytes(reply)
    expectedReply = expected
  }
}

/// One HTTP/2 connection of the load client for gRPC servers: keeps `depth` unary calls in
/// flight, one stream each, on a `NIOHTTP2Handler` used without a stream multiplexer, so a
/// call costs two frames out and three in rather than a child channel per stream. It grants
/// connection-level flow-control credit itself (the multiplexer would do it otherwise).
///
/// Every call must end with `grpc-status: 0` and a reply of the expected size; the first few
/// are compared byte for byte.
final class GRPCLoadHandler: ChannelInboundHandler {
  typealias InboundIn = HTTP2Frame
  typealias OutboundOut = HTTP2Frame

  private let run: LoadRun
  private let request: GRPCVisitRequest
  private var slots: CallSlots
  /// The slot each open stream belongs to.
  private var slotOfStream: [Int32: Int] = [:]
  /// Reply bytes received so far per slot.
  private var replyBytes: [Int]
  /// Reply bytes kept per slot while replies are still compared in full.
  private var replies: [ByteBuffer?]
  /// Calls still to compare in full.
  private var fullChecksLeft = 4
  /// The next stream id: clients use odd ids, in increasing order.
  private var nextStreamID: Int32 = 1
  /// Data bytes received since the last connection-level WINDOW_UPDATE.
  private var unacknowledgedBytes = 0
  /// Calls of this connection in flight.
  private var inFlight = 0
  /// Whether frames were written since the last flush.
  private var unflushed = false
  /// Whether the connection has failed (its calls were counted as errors).
  private var failed = false

  /// Creates a handler that keeps `depth` calls in flight.
  init(run: LoadRun, request: GRPCVisitRequest, depth: Int) {
    self.run = run
    self.request = request
    self.slots = CallSlots(count: depth)
    self.replyBytes = Array(repeating: 0, count: depth)
    self.replies = Array(repeating: nil, count: depth)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    guard event is StartCalls else {
      context.fireUserInboundEventTriggered(event)
      return
    }
    for slot in 0..<slots.count { send(slot, context: context) }
    context.flush()
    unflushed = false
  }

  /// Opens a stream for `slot` and writes the whole request on it (not flushed).
  private func send(_ slot: Int, context: ChannelHandlerContext) {
    let id = nextStreamID
    nextStreamID += 2
    let stream = HTTP2StreamID(id)
    slotOfStream[id] = slot
    replyBytes[slot] = 0
    replies[slot] = fullChecksLeft > 0 ? ByteBuffer() : nil
    slots.start(slot, id: id)
    inFlight += 1
    run.callStarted()
    context.write(
      wrapOutboundOut(
        HTTP2Frame(streamID: stream, payload: .headers(.init(headers: request.headers)))
      ),
      promise: nil
    )
    context.write(
      wrapOutboundOut(
        HTTP2Frame(
          streamID: stream,
          payload: .data(.init(data: .byteBuffer(request.message), endStream: true))
        )
      ),
      promise: nil
    )
    unflushed = true
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    do {
      switch frame.payload {
      case .data(let body):
        let size = body.data.readableBytes
        unacknowledgedBytes += size + (body.paddingBytes.map { $0 + 1 } ?? 0)
        if unacknowledgedBytes >= 32 * 1024 {
          context.write(
            wrapOutboundOut(
              HTTP2Frame(
                streamID: .rootStream,
                payload: .windowUpdate(windowSizeIncrement: unacknowledgedBytes)
              )
            ),
            promise: nil
          )
          unacknowledgedBytes = 0
          unflushed = true
        }
        guard let slot = slotOfStream[Int32(frame.streamID)] else {
          throw LoadError("data on stream \(frame.streamID), which no call has")
        }
        replyBytes[slot] += size
        if case .byteBuffer(var bytes) = body.data, replies[slot] != nil {
          replies[slot]!.writeBuffer(&bytes)
        }
      case .headers(let headers):
        guard let slot = slotOfStream[Int32(frame.streamID)] else {
          throw LoadError("headers on stream \(frame.streamID), which no call has")
        }
        if headers.endStream {
          try finish(
            slot,
            stream: Int32(frame.streamID),
            trailers: headers.headers,
            context: context
          )
        } else if replies[slot] != nil, headers.headers.first(name: ":status") != "200" {
          throw LoadError("HTTP status \(headers.headers.first(name: ":status") ?? "none")")
        }
      case .rstStream(let code):
        throw LoadError("stream \(frame.streamID) reset by the server: \(code)")
      case .goAway(_, let code, _):
        throw LoadError("GOAWAY from the server: \(code)")
      default:
        break
      }
    } catch {
      fail(context: context, "\(error)")
    }
  }

  /// Ends the call of `slot` on its trailers and starts the next one.
  private func finish(
    _ slot: Int,
    stream: Int32,
    trailers: HPACKHeaders,
    context: ChannelHandlerContext
  ) throws {
    guard let status = trailers.first(name: "grpc-status"), status == "0" else {
      let message = trailers.first(name: "grpc-message") ?? ""
      throw LoadError("grpc-status \(trailers.first(name: "grpc-status") ?? "none") \(message)")
    }
    guard replyBytes[slot] == request.expectedReply.readableBytes else {
      throw LoadError(
        "reply of \(replyBytes[slot]) bytes, expected \(request.expectedReply.readableBytes)"
      )
    }
    if let reply = replies[slot] {
      guard reply == request.expectedReply else { throw LoadError("wrong reply bytes") }
      fullChecksLeft -= 1
      replies[slot] = nil
    }
    slotOfStream[stream] = nil
    let latency = slots.finish(slot)
    inFlight -= 1
    run.callCompleted(latency: latency)
    if run.keepsSending { send(slot, context: context) }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    if unflushed {
      unflushed = false
      context.flush()
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    if inFlight > 0, !run.drainCompleted {
      fail(context: context, "connection closed by the server with \(inFlight) calls in flight")
    }
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    fail(context: context, "\(error)")
  }

  /// Counts the calls in flight as failed and closes the connection.
  private func fail(context: ChannelHandlerContext, _ message: String) {
    guard !failed else { return }
    failed = true
    run.callsFailed(inFlight, message)
    inFlight = 0
    context.close(promise: nil)
  }
}
