public import NIOCore

/// Cuts an inbound byte stream into Thrift frames (each passed on without its 4-byte length)
/// with ``ThriftFrameDecoder``'s rules and limits; optionally tells the handlers after it where
/// the stream stands against frame boundaries (``Progress``), for frame-read and idle timers.
///
/// It does what `ByteToMessageHandler(ThriftFrameDecoder())` does, in one non-generic handler:
/// on a server's call path the generic handler looked its type's metadata up at run time on
/// every read and kept a second handler busy only to watch frame boundaries.
///
/// A frame the decoder refuses (a length of 0, negative or over the limit) is an error sent
/// down the pipeline (`errorCaught`), after which the rest of the stream is dropped unread.
/// When the input ends with part of a frame, that is an error too (truncated).
public final class ThriftFrameHandler: ChannelInboundHandler {
  /// The stream's bytes.
  public typealias InboundIn = ByteBuffer
  /// Each frame's payload.
  public typealias InboundOut = ByteBuffer

  /// Where the stream stands after a read that leaves part of a frame waiting, or that ends a
  /// frame part of which was waiting: sent up as a user event when asked for. A read of whole
  /// frames with nothing before or after it, the usual case, reports nothing: the frames are
  /// the news, and a user event per read cost a server's call path three dynamic casts.
  public struct Progress: Sendable, Hashable {
    /// Whether part of a frame has arrived and the rest has not.
    public var pending: Bool
    /// Whether a frame ended in this read.
    public var completedFrame: Bool

    /// Creates a progress report.
    public init(pending: Bool, completedFrame: Bool) {
      self.pending = pending
      self.completedFrame = completedFrame
    }
  }

  private var decoder: ThriftFrameDecoder
  private let reportsProgress: Bool
  /// The bytes of a frame that has not fully arrived.
  private var partial: ByteBuffer?
  /// Set once the stream broke the rules or ended: nothing more is read from it.
  private var done = false

  /// Creates a handler.
  ///
  /// - Parameters:
  ///   - maxFrameSize: The largest frame accepted (default: ``ThriftLimits/maxFrameSize``).
  ///   - reportsProgress: Whether to send ``Progress`` events up (see there for when).
  public init(
    maxFrameSize: Int = ThriftLimits.default.maxFrameSize,
    reportsProgress: Bool = false
  ) {
    self.decoder = ThriftFrameDecoder(maxFrameSize: maxFrameSize)
    self.reportsProgress = reportsProgress
  }

  /// Passes on every frame the bytes so far complete, and keeps the rest for the next read.
  public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !done else { return }
    var buffer = unwrapInboundIn(data)
    let wasPending = partial != nil
    if var earlier = partial {
      // Dropped first, so the append below does not copy the bytes kept so far.
      partial = nil
      earlier.writeBuffer(&buffer)
      buffer = earlier
    }
    var completed = false
    do {
      while let frame = try decoder.decode(buffer: &buffer) {
        completed = true
        context.fireChannelRead(wrapInboundOut(frame))
      }
    } catch {
      done = true
      context.fireErrorCaught(error)
      return
    }
    let pending = buffer.readableBytes > 0
    if pending { partial = buffer }
    if reportsProgress, pending || wasPending {
      context.fireUserInboundEventTriggered(
        Progress(pending: pending, completedFrame: completed)
      )
    }
  }

  /// The peer half-closed: a frame cut short is an error, then the event goes on.
  public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? ChannelEvent, event == .inputClosed { endOfInput(context: context) }
    context.fireUserInboundEventTriggered(event)
  }

  /// The connection closed: a frame cut short is an error, then the event goes on.
  public func channelInactive(context: ChannelHandlerContext) {
    endOfInput(context: context)
    context.fireChannelInactive()
  }

  private func endOfInput(context: ChannelHandlerContext) {
    guard !done else { return }
    done = true
    guard var rest = partial else { return }
    partial = nil
    do {
      // Every whole frame was passed on as it arrived: what is left can only be cut short,
      // which the decoder reports in its own words.
      while let frame = try decoder.decodeLast(buffer: &rest, seenEOF: true) {
        context.fireChannelRead(wrapInboundOut(frame))
      }
    } catch {
      context.fireErrorCaught(error)
    }
  }
}
