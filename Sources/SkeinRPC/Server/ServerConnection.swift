public import Logging
public import NIOCore
public import SkeinThrift

/// One server connection's request loop, on the connection's event loop.
///
/// Each request frame runs its call in a task whose executor preference is this event loop
/// (``EventLoopTaskExecutor``; unless the server is configured otherwise): the handler runs on
/// the thread that read the frame and its reply is written from there, so a call that does not
/// suspend costs no thread hop at all.
/// Swift-concurrency hops (socket loop → consumer task → call task → back to the loop) were
/// most of the server's CPU per call before.
///
/// A call's task does not end with its call: it waits on the loop for the connection's next
/// request (``runCalls(from:worker:call:remote:on:)``), up to ``maxParkedWorkers`` of them per
/// connection, so a busy connection does not create and destroy a task per call (5–8% of the
/// server's CPU per call with a small handler). Closing the connection ends them; a peer that
/// goes away cancels the calls still running.
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
///
/// A peer that breaks the protocol loses its connection the same way, with the reason logged
/// at `notice` (peer, and which limit when a limit was broken): a frame the decoder refused,
/// a request whose bytes are corrupt (``ThriftProcessorOutcome/fault``; it still gets its
/// exception reply), a frame that took longer than the frame-read timeout to arrive. A
/// connection with nothing running and nothing arriving for the idle timeout is closed too.
@usableFromInline
final class ServerConnectionHandler: ChannelDuplexHandler {
  @usableFromInline typealias InboundIn = ByteBuffer
  @usableFromInline typealias OutboundIn = ByteBuffer
  @usableFromInline typealias OutboundOut = ByteBuffer

  /// Runs one call: the request frame, when it arrived and the peer in, the framed reply (nil
  /// for oneway) out. Built where the service's type is known, so the call path is specialized.
  @usableFromInline typealias Call =
    nonisolated(nonsending) @Sendable (ByteBuffer, ContinuousClock.Instant, InstanceAddress?)
    async -> ThriftProcessorOutcome

  private let call: Call
  private let maxConcurrentCalls: Int
  private let logger: Logger
  private var remote: InstanceAddress?
  /// Where calls run: this connection's event loop, or nil for the global executor.
  private let executor: EventLoopTaskExecutor?
  private var context: ChannelHandlerContext?
  /// Calls running now.
  private var running = 0
  /// Every call task alive, running a call or parked, by worker number: cancelled when the
  /// peer goes.
  private var workers: [UInt64: Task<Void, Never>] = [:]
  private var nextWorker: UInt64 = 0
  /// Call tasks waiting for the connection's next request, the most recent last.
  private var parked: [UnsafeContinuation<CallRequest?, Never>] = []
  /// The most call tasks one connection keeps waiting between calls; a burst's tasks beyond
  /// it end. A kept task holds 2–8 KiB (its allocator's slabs stay as large as its deepest
  /// call needed), so a connection keeps at most about 128 KiB after any burst.
  static let maxParkedWorkers = 16
  private var waiting = CircularBuffer<CallRequest>()
  private var readHeld = false
  private var inputClosed = false
  private var flushScheduled = false
  private var closing = false
  /// Set once the peer broke the protocol: frames it already sent are dropped unread.
  private var refused = false
  private let frameReadTimeout: TimeAmount
  private let idleTimeout: TimeAmount?
  /// When the frame being received started (or the one before it ended); nil between frames.
  private var frameStarted: NIODeadline?
  /// When bytes last arrived or the last call ended.
  private var lastActivity = NIODeadline.now()
  /// Checks both timeouts. One timer per connection, moved only when a frame starts after a
  /// pause: re-arming a timer per request would cost the call path a heap operation each.
  private var watchdog: Scheduled<Void>?
  private var watchdogDue = NIODeadline.distantFuture

  /// Creates the handler of a connection on `eventLoop`.
  @usableFromInline
  init(
    eventLoop: any EventLoop,
    maxConcurrentCalls: Int,
    handlersRunOnEventLoop: Bool,
    frameReadTimeout: Duration,
    idleTimeout: Duration?,
    logger: Logger,
    call: @escaping Call
  ) {
    self.call = call
    self.maxConcurrentCalls = max(1, maxConcurrentCalls)
    self.frameReadTimeout = TimeAmount(frameReadTimeout)
    self.idleTimeout = idleTimeout.map(TimeAmount.init)
    self.logger = logger
    self.executor = handlersRunOnEventLoop ? EventLoopTaskExecutor(eventLoop) : nil
  }

  @usableFromInline
  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    remote = InstanceAddress(context.remoteAddress)
    lastActivity = .now()
    scheduleWatchdog(at: lastActivity + min(frameReadTimeout, idleTimeout ?? frameReadTimeout))
  }

  @usableFromInline
  func handlerRemoved(context: ChannelHandlerContext) {
    // Every close of the connection comes here, after `channelInactive`: no request will come.
    releaseParked()
    watchdog?.cancel()
    self.context = nil
  }

  @usableFromInline
  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    // Frames decoded from bytes that arrived before the peer broke the protocol: not trusted.
    if refused { return }
    let request = CallRequest(frame: unwrapInboundIn(data), received: ContinuousClock.now)
    if running < maxConcurrentCalls {
      start(request, worker: nil, context: context)
    } else {
      waiting.append(request)
    }
  }

  /// Runs a request in `worker`, else in a parked call task, else in a new one.
  private func start(
    _ request: CallRequest,
    worker: UnsafeContinuation<CallRequest?, Never>?,
    context: ChannelHandlerContext
  ) {
    running += 1
    if let worker = worker ?? parked.popLast() {
      worker.resume(returning: request)
      return
    }
    let worker = nextWorker
    nextWorker &+= 1
    let call = self.call
    let remote = self.remote
    let this = NIOLoopBound(self, eventLoop: context.eventLoop)
    workers[worker] = Task(executorPreference: executor) {
      await runCalls(from: request, worker: worker, call: call, remote: remote, on: this)
    }
  }

  /// A call ended: writes its reply, starts the next waiting request (in `worker`, the task
  /// that ran this call, when it may take one), lets reading go on if it was held, and parks
  /// `worker` or lets it end; or, when the request was corrupt, stops reading and closes once
  /// the reply and the other calls' replies are out.
  fileprivate func finished(
    _ outcome: ThriftProcessorOutcome,
    worker: UnsafeContinuation<CallRequest?, Never>?
  ) {
    running -= 1
    guard let context else {
      worker?.resume(returning: nil)
      return
    }
    if let reply = outcome.reply {
      context.write(wrapOutboundOut(reply), promise: nil)
      if running == 0, !flushScheduled {
        // No other call of this connection is running, so no reply could join a batch.
        context.flush()
      } else {
        scheduleFlush(context)
      }
    }
    if let fault = outcome.fault, !refused {
      // After its reply is queued: the close waits for the writes before it.
      refuse(
        "corrupt request",
        reason: "\(fault)",
        limit: fault.limit?.description,
        context: context
      )
    }
    if !refused, let next = waiting.popFirst() {
      start(next, worker: worker, context: context)
    } else if let worker {
      park(worker)
    }
    if readHeld, mayRead(context) {
      readHeld = false
      context.read()
    }
    if running == 0 { lastActivity = .now() }
    closeIfDrained(context)
  }

  /// Keeps a call task for the next request, or lets it end when enough are kept. (Those
  /// kept end when the connection does: see `handlerRemoved`.)
  private func park(_ worker: UnsafeContinuation<CallRequest?, Never>) {
    if parked.count >= Self.maxParkedWorkers {
      worker.resume(returning: nil)
    } else {
      parked.append(worker)
    }
  }

  /// A call task ended.
  fileprivate func workerEnded(_ worker: UInt64) {
    workers[worker] = nil
  }

  /// Lets every parked call task end: no request will come for them.
  private func releaseParked() {
    let released = parked
    parked.removeAll()
    for worker in released { worker.resume(returning: nil) }
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
    // The frame handler's report first: the one event a busy connection sees.
    switch event {
    case let progress as ThriftFrameHandler.Progress:
      frameProgressed(progress, context: context)
      // Internal to the server's pipeline: no other handler wants it.
      return
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
    guard inputClosed, running == 0, waiting.isEmpty, !closing else { return }
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
    for task in workers.values { task.cancel() }
    watchdog?.cancel()
    context.fireChannelInactive()
  }

  @usableFromInline
  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    if let error = error as? ThriftProtocolError {
      // A frame the decoder refused (a bad or over-the-limit length, cut short at close).
      refuse("bad frame", reason: "\(error)", limit: error.limit?.description, context: context)
    } else {
      // A socket error (the peer reset the connection): routine, not the peer's fault.
      logger.debug(
        "closing connection",
        metadata: ["peer": "\(remote?.description ?? "?")", "error": "\(error)"]
      )
      inputClosed = true
      closeIfDrained(context)
    }
  }

  /// The peer broke the protocol: logs why, reads no more of its input, and closes once the
  /// calls already running have answered (their replies are still owed).
  private func refuse(
    _ what: String,
    reason: String,
    limit: String?,
    context: ChannelHandlerContext
  ) {
    var metadata: Logger.Metadata = [
      "peer": "\(remote?.description ?? "?")", "reason": "\(reason)",
    ]
    if let limit { metadata["limit"] = "\(limit)" }
    logger.notice("closing connection: \(what)", metadata: metadata)
    refused = true
    inputClosed = true
    waiting.removeAll()
    watchdog?.cancel()
    closeIfDrained(context)
  }

  /// Notes where the byte stream stands: a frame under way starts its frame-read clock (anew
  /// when the one before it just ended); bytes arriving mean the connection is not idle.
  /// (Reads of whole frames send no report: the calls they start keep the connection busy,
  /// and the end of the last one counts as activity.)
  private func frameProgressed(
    _ progress: ThriftFrameHandler.Progress,
    context: ChannelHandlerContext
  ) {
    lastActivity = .now()
    guard progress.pending else {
      frameStarted = nil
      return
    }
    guard frameStarted == nil || progress.completedFrame else { return }
    frameStarted = lastActivity
    let due = lastActivity + frameReadTimeout
    if due < watchdogDue { scheduleWatchdog(at: due) }
  }

  private func scheduleWatchdog(at due: NIODeadline) {
    guard let context else { return }
    watchdog?.cancel()
    watchdogDue = due
    let this = NIOLoopBound(self, eventLoop: context.eventLoop)
    watchdog = context.eventLoop.scheduleTask(deadline: due) { this.value.watch() }
  }

  /// Closes the connection if a frame is overdue or it has been idle too long; otherwise looks
  /// again when the earliest of them could be.
  private func watch() {
    watchdogDue = .distantFuture
    guard let context, !refused, !closing else { return }
    let now = NIODeadline.now()
    if let started = frameStarted, now - started >= frameReadTimeout {
      refuse(
        "frame read timeout",
        reason: "a frame was not finished within \(frameReadTimeout.nanoseconds / 1_000_000) ms",
        limit: "frameReadTimeout",
        context: context
      )
      return
    }
    let idle = running == 0 && waiting.isEmpty && frameStarted == nil
    if idle, let idleTimeout, now - lastActivity >= idleTimeout {
      logger.info(
        "closing idle connection",
        metadata: [
          "peer": "\(remote?.description ?? "?")",
          "idleTimeout": "\(idleTimeout.nanoseconds / 1_000_000) ms",
        ]
      )
      inputClosed = true
      closeIfDrained(context)
      return
    }
    var next = (frameStarted ?? now) + frameReadTimeout
    if idle, let idleTimeout { next = min(next, lastActivity + idleTimeout) }
    scheduleWatchdog(at: next)
  }
}

/// A request frame, and when it arrived: its wait for a free slot counts against its deadline.
struct CallRequest: Sendable {
  var frame: ByteBuffer
  var received: ContinuousClock.Instant
}

/// A call task: runs its request, then, while it is on the connection's loop, hands the outcome
/// in and waits there for the connection's next request, until the connection lets it end.
///
/// A task that ends its call off the loop (handlers run on the global executor, or one hopped
/// away) brings the outcome back through the loop's queue and ends: waiting there would cost
/// a hop per call again. A cancelled task ends too: it stays cancelled, and the next call
/// must not start that way.
private nonisolated(nonsending) func runCalls(
  from first: CallRequest,
  worker: UInt64,
  call: ServerConnectionHandler.Call,
  remote: InstanceAddress?,
  on connection: NIOLoopBound<ServerConnectionHandler>
) async {
  var request = first
  while true {
    let outcome = await call(request.frame, request.received, remote)
    guard connection.eventLoop.inEventLoop, !Task.isCancelled else {
      connection.eventLoop.execute {
        connection.value.finished(outcome, worker: nil)
        connection.value.workerEnded(worker)
      }
      return
    }
    guard
      let next = await withUnsafeContinuation({
        connection.value.finished(outcome, worker: $0)
      })
    else {
      // Once per task, so the loop's queue is no cost here; it is safe wherever this resumed.
      connection.eventLoop.execute { connection.value.workerEnded(worker) }
      return
    }
    request = next
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
