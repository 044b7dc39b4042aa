import NIOCore
import SkeinDemoIDL
import SkeinThrift

/// The ExampleService.Visit call every Thrift server gets, encoded once as a complete frame
/// (length prefix, strict message header, arguments); each call copies it and patches its
/// sequence id in place.
struct ThriftVisitRequest: Sendable {
  /// The framed call with sequence id 0.
  let frame: ByteBuffer
  /// Where the sequence id sits in ``frame``.
  let sequenceIDOffset: Int
  /// The `Resp` every reply must carry.
  let expectedResp: String

  /// Encodes a call whose `Name` is `payload` bytes long.
  init(payload: Int) throws {
    let name = String((0..<payload).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
    let request = ExampleRequest(
      name: name,
      id64: 1_234_567_890_123,
      id32: 42,
      base: Base(logID: "20261125-0001-bench-logid", caller: "skein-bench")
    )
    var writer = ThriftBinaryWriter(capacity: payload + 256)
    let start = writer.beginFrame()
    writer.writeMessageBegin(ThriftMessageHeader(name: "Visit", type: .call, sequenceID: 0))
    sequenceIDOffset = writer.count - 4
    ExampleServiceMethods.VisitArgs(req: request).write(to: &writer)
    try writer.endFrame(at: start)
    frame = writer.buffer
    expectedResp = "hello, " + name
  }
}

/// One Thrift connection of the load client: keeps `depth` Visit calls in flight, pipelined
/// on the connection and matched to their replies by sequence id, so it works whether the
/// server answers in order (one call at a time per connection) or multiplexes.
///
/// Replies are checked: the first few are decoded in full and compared with the expected
/// `Resp`, the rest must be replies of the same size to a call in flight. New calls are
/// written as replies arrive and flushed once per read burst.
final class ThriftLoadHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private let run: LoadRun
  private let request: ThriftVisitRequest
  private var slots: CallSlots
  /// Calls of this connection in flight.
  private var inFlight = 0
  /// Replies still to decode in full.
  private var fullChecksLeft = 4
  /// The size of a correct reply frame, learnt from the first one.
  private var replySize = -1
  /// Whether calls were written since the last flush.
  private var unflushed = false
  /// Whether the connection has failed (its calls were counted as errors).
  private var failed = false

  /// Creates a handler that keeps `depth` calls in flight.
  init(run: LoadRun, request: ThriftVisitRequest, depth: Int) {
    self.run = run
    self.request = request
    self.slots = CallSlots(count: depth)
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

  /// Writes a new call for `slot` (not flushed).
  private func send(_ slot: Int, context: ChannelHandlerContext) {
    var frame = request.frame
    frame.setInteger(slots.startThrift(slot), at: request.sequenceIDOffset)
    inFlight += 1
    run.callStarted()
    context.write(wrapOutboundOut(frame), promise: nil)
    unflushed = true
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    do {
      var reader = ThriftBinaryReader(buffer: frame)
      let header = try reader.readMessageBegin()
      guard let slot = slots.slot(forThriftID: header.sequenceID) else {
        throw LoadError("reply with sequence id \(header.sequenceID), which no call in flight has")
      }
      switch header.type {
      case .reply:
        break
      case .exception:
        let exception = try ThriftApplicationException(from: &reader)
        throw LoadError("server exception: \(exception)")
      default:
        throw LoadError("unexpected message type \(header.type)")
      }
      if fullChecksLeft > 0 {
        fullChecksLeft -= 1
        let response = try ExampleServiceMethods.VisitResult(from: &reader).get()
        guard response.resp == request.expectedResp else {
          throw LoadError(
            "wrong Resp: \(response.resp.prefix(40))… (\(response.resp.utf8.count) bytes)"
          )
        }
        replySize = frame.readableBytes
      } else if frame.readableBytes != replySize {
        throw LoadError("reply of \(frame.readableBytes) bytes, the first ones had \(replySize)")
      }
      if run.phase == .measuring, slots.isOvertaking(slot) { run.overtaking += 1 }
      let latency = slots.finish(slot)
      inFlight -= 1
      run.callCompleted(latency: latency)
      if run.keepsSending { send(slot, context: context) }
    } catch {
      fail(context: context, "\(error)")
    }
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
