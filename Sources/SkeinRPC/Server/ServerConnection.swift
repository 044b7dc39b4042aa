public import Logging
public import NIOCore

/// One server connection's request loop, on the connection's event loop.
///
/// Each request frame starts its call as a task whose executor preference is this event loop
/// (``EventLoopTaskExecutor``; unless the server is configured otherwise): the handler runs on
/// the thread that read the frame and its reply is written from there, so a call that does not
/// suspend costs no thread hop at all.
/// Swift-concurrency hops (socket loop → consumer task → call task → back to the loop) were
/// most of the server's CPU per call before.
///
/// The handler also bounds the calls running at once. Past the limit it reads ahead as many
/// requests again, each stamped with its arrival so its wait counts against its deadline, and
/// then holds the channel's `read`: a client that sends faster than the server answers meets
/// TCP backpressure instead of growing this process. It holds reads too while the socket does
/// not take replies (the client is not reading). Replies written in one turn of the loop share
/// one flush.
///
/// When the input ends (the client half-closed, or graceful shutdown closed it) the calls in
/// flight finish, their replies are written out, and then the connection closes.
@usableFromInline
final class ServerConnectionHandler: ChannelDuplexHandler {
  @usableFromInline typealias InboundIn = ByteBuffer
  @usableFromInline typealias OutboundIn = ByteBuffer
  @usableFromInline typealias OutboundOut = ByteBuffer

  /// Runs one call: the request frame, when it arrived and the peer in, the framed reply (nil
  /// for oneway) out. Built where the service's type is known, so the call path is specialized.
  @usableFromInline typealias Call =
    @Sendable (ByteBuffer, ContinuousClock.Instant, InstanceAddress?) async -> ByteBuffer?

  private let call: Call
  private let maxConcurrentCalls: Int
  private let logger: Logger
  private var remote: InstanceAddress?
  /// Where calls run: this connection's event loop, or nil for the global executor.
  private let executor: EventLoopTaskExecutor?
  private var context: ChannelHandlerContext?
  private var running: [UInt64: Task<Void, Never>] = [:]
  private var waiting = CircularBuffer<(frame: ByteBuffer, received: ContinuousClock.Instant)>()
  private var nextCallID: UInt64 = 0
  private var readHeld = false
  private var inputClosed = false
  private var flushScheduled = false
  private var closing = false

  /// Creates the handler of a connection on `eventLoop`.
  @usableFromInline
  init(
    eventLoop: any EventLoop,
    maxConcurrentCalls: Int,
    handlersRunOnEventLoop: Bool,
    logger: Logger,
    call: @escaping Call
  ) {
    self.call = call
    self.maxConcurrentCalls = max(1, maxConcurrentCalls)
    self.logger = logger
    self.executor = handlersRunOnEventLoop ? EventLoopTaskExecutor(eventLoop) : nil
  }

  @usableFromInline
  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    remote = InstanceAddress(context.remoteAddress)
  }

  @usableFromInline
  func handlerRemoved(context: ChannelHandlerContext) {
    self.context = nil
  }

  @usableFromInline
  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    let received = ContinuousClock.now
    if running.count < maxConcurrentCalls {
      start(frame, received: received, context: context)
    } else {
      waiting.append((frame, received))
    }
  }

  private func start(
    _ frame: ByteBuffer,
    received: ContinuousClock.Instant,
    context: ChannelHandlerContext
  ) {
    let id = nextCallID
    nextCallID &+= 1
    let call = self.call
    let remote = self.remote
    let this = NIOLoopBound(self, eventLoop: context.eventLoop)
    running[id] = Task(executorPreference: executor) {
      let reply = await call(frame, received, remote)
      // A task that prefers this loop is almost always here already; one that ends elsewhere
      // comes back through the loop's queue.
      if this.eventLoop.inEventLoop {
        this.value.finished(id, reply: reply)
      } else {
        this.eventLoop.execute { this.value.finished(id, reply: reply) }
      }
    }
  }

  /// A call ended: writes its reply, starts the next waiting request, and lets reading go on
  /// if it was held.
  private func finished(_ id: UInt64, reply: ByteBuffer?) {
    running[id] = nil
    guard let context else { return }
    if let reply {
      context.write(wrapOutboundOut(reply), promise: nil)
      if running.isEmpty, !flushScheduled {
        // No other call of this connection is running, so no reply could join a batch.
        context.flush()
      } else {
        scheduleFlush(context)
      }
    }
    if let next = waiting.popFirst() {
      start(next.frame, received: next.received, context: context)
    }
    if readHeld, mayRead(context) {
      readHeld = false
      context.read()
    }
    closeIfDrained(context)
  }

  /// Flushes once, after the work already queued on the loop: replies of calls finishing in
  /// the same turn join it, which turns a `write` system call per call into one per batch.
  private func scheduleFlush(_ context: ChannelHandlerContext) {
    guard !flushScheduled else { return }
    flushScheduled = true
    let this = NIOLoopBound(self, eventLoop: context.eventLoop)
    context.eventLoop.execute {
      let handler = this.value
      handler.flushScheduled = false
      handler.context?.flush()
    }
  }

  private func mayRead(_ context: ChannelHandlerContext) -> Bool {
    !inputClosed && waiting.count < maxConcurrentCalls && context.channel.isWritable
  }

  @usableFromInline
  func read(context: ChannelHandlerContext) {
    if mayRead(context) {
      context.read()
    } else {
      readHeld = true
    }
  }

  @usableFromInline
  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if readHeld, mayRead(context) {
      readHeld = false
      context.read()
    }
    context.fireChannelWritabilityChanged()
  }

  @usableFromInline
  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    switch event {
    case ChannelEvent.inputClosed, is StopReading:
      inputClosed = true
      closeIfDrained(context)
    default:
      break
    }
    context.fireUserInboundEventTriggered(event)
  }

  /// Tells the handler to read no more requests and close once the running calls answered:
  /// graceful shutdown. (Shutting the socket's input down instead would make NIO close the
  /// whole connection at the next readiness event, cutting those answers off.)
  struct StopReading: Sendable {}

  /// Once no more requests can come and none is running, writes out what is left and closes.
  private func closeIfDrained(_ context: ChannelHandlerContext) {
    guard inputClosed, running.isEmpty, waiting.isEmpty, !closing else { return }
    closing = true
    // Writes complete in order: once this empty one has, every reply before it is written.
    let channel = context.channel
    context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in
      channel.close(promise: nil)
    }
  }

  @usableFromInline
  func channelInactive(context: ChannelHandlerContext) {
    // The peer is gone: nobody will read the replies.
    waiting.removeAll()
    for task in running.values { task.cancel() }
    context.fireChannelInactive()
  }

  @usableFromInline
  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    // A frame the decoder refused (too large, bad length, cut short at close) or a socket
    // error: no further request can be read, but the calls already running still answer.
    logger.debug(
      "closing connection",
      metadata: ["peer": "\(remote?.description ?? "?")", "error": "\(error)"]
    )
    inputClosed = true
    closeIfDrained(context)
  }
}

/// Runs tasks on an event loop, for ``ServerConnectionHandler``'s calls: a task that prefers
/// this executor runs its nonisolated code on the loop's thread.
@usableFromInline
final class EventLoopTaskExecutor: TaskExecutor {
  private let eventLoop: any EventLoop

  init(_ eventLoop: any EventLoop) {
    self.eventLoop = eventLoop
  }

  @usableFromInline
  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let executor = asUnownedTaskExecutor()
    eventLoop.execute { job.runSynchronously(on: executor) }
  }
}
