public import NIOCore

/// Writes a connection's replies, flushing once for all the replies written in one turn of the
/// event loop rather than once per reply: under load that turns a `write` system call per call
/// into one per batch, which was a quarter of the server's time.
///
/// While the socket keeps up, a reply is handed over without waiting. When it does not (the
/// channel is not writable: the client is not reading), the call waits for its reply to be
/// written, so its slot in ``CallLimiter`` stays taken and the server stops taking requests
/// rather than buffering replies without bound.
@usableFromInline
struct ReplyWriter: Sendable {
  private let channel: any Channel
  private let flusher: NIOLoopBoundBox<Flusher>

  @usableFromInline
  init(channel: any Channel) {
    self.channel = channel
    self.flusher = NIOLoopBoundBox.makeBoxSendingValue(Flusher(), eventLoop: channel.eventLoop)
  }

  /// Writes one framed reply.
  @usableFromInline
  func write(_ reply: ByteBuffer) async throws {
    guard channel.isWritable else {
      try await channel.writeAndFlush(reply)
      return
    }
    let channel = self.channel
    let flusher = self.flusher
    if channel.eventLoop.inEventLoop {
      flusher.value.write(reply, to: channel)
    } else {
      channel.eventLoop.execute { flusher.value.write(reply, to: channel) }
    }
  }

  /// Waits until every reply handed over so far is written, so closing the connection after
  /// it loses nothing (graceful shutdown closes right after the last call finishes).
  @usableFromInline
  func drain() async {
    // Writes complete in order: once this empty one has, all before it have.
    try? await channel.writeAndFlush(ByteBuffer())
  }

  /// Remembers whether a flush is already on its way, on the channel's event loop.
  final class Flusher {
    private var flushScheduled = false

    func write(_ reply: ByteBuffer, to channel: any Channel) {
      channel.write(reply, promise: nil)
      guard !flushScheduled else { return }
      flushScheduled = true
      // Runs after the tasks already queued on this loop: their replies join this flush.
      channel.eventLoop.assumeIsolated().execute {
        self.flushScheduled = false
        channel.flush()
      }
    }
  }
}
