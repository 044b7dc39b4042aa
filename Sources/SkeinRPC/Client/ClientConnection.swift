import NIOCore
import NIOPosix
import SkeinThrift
import Synchronization

/// One TCP connection to a server instance, with many calls in flight on it: each request
/// gets a sequence id and its reply is matched back by that id, whatever order replies come in.
final class ClientConnection: Sendable {
  /// The instance this connection reaches.
  let address: InstanceAddress
  let channel: any Channel
  private let dispatcher: NIOLoopBound<ReplyDispatcher>
  private let nextSequenceID = Atomic<Int32>(0)
  private let claims: ConnectionClaims

  private init(
    address: InstanceAddress,
    channel: any Channel,
    dispatcher: NIOLoopBound<ReplyDispatcher>,
    claims: ConnectionClaims
  ) {
    self.address = address
    self.channel = channel
    self.dispatcher = dispatcher
    self.claims = claims
  }

  /// Connects to `address`.
  ///
  /// - Throws: ``RPCError`` with ``RPCError/Code/connectFailed``.
  static func connect(
    to address: InstanceAddress,
    group: any EventLoopGroup,
    connectTimeout: Duration,
    idleTimeout: Duration,
    limits: ThriftLimits
  ) async throws -> ClientConnection {
    let eventLoop = group.next()
    let claims = ConnectionClaims()
    do {
      let channel = try await ClientBootstrap(group: eventLoop)
        .connectTimeout(.nanoseconds(connectTimeout.nanoseconds))
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
          channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(
              IdleStateHandler(allTimeout: .nanoseconds(idleTimeout.nanoseconds))
            )
            try sync.addHandler(ThriftFrameHandler(maxFrameSize: limits.maxFrameSize))
            try sync.addHandler(
              ReplyDispatcher(address: address, limits: limits, claims: claims)
            )
          }
        }
        .connect(host: address.host, port: address.port).get()
      let dispatcher = try await channel.eventLoop.submit {
        NIOLoopBound(
          try channel.pipeline.syncOperations.handler(type: ReplyDispatcher.self),
          eventLoop: channel.eventLoop
        )
      }.get()
      return ClientConnection(
        address: address,
        channel: channel,
        dispatcher: dispatcher,
        claims: claims
      )
    } catch {
      throw RPCError(.connectFailed, "cannot connect to \(address): \(error)")
    }
  }

  /// Whether the connection can take calls.
  var isActive: Bool { channel.isActive }

  /// Calls holding this connection.
  var load: Int { claims.count }

  /// Holds the connection for one call until ``release()``, so it cannot close idle before
  /// the call's request is written; `false` when it already did.
  func claim() -> Bool { claims.claim() }

  /// Ends a call's hold on the connection.
  func release() { claims.release() }

  /// A fresh sequence id for a request on this connection.
  func makeSequenceID() -> Int32 {
    nextSequenceID.wrappingAdd(1, ordering: .relaxed).newValue
  }

  /// Sends one framed request and waits for its reply frame (or, for a oneway call, until the
  /// request is written).
  ///
  /// - Parameters:
  ///   - frame: The request, with its frame length.
  ///   - sequenceID: The id the request carries.
  ///   - expectsReply: `false` for oneway calls.
  ///   - deadline: When to give up with ``RPCError/Code/timeout``.
  /// - Returns: The reply frame (without its length), or `nil` for a oneway call.
  nonisolated(nonsending) func send(
    _ frame: ByteBuffer,
    sequenceID: Int32,
    expectsReply: Bool,
    deadline: ContinuousClock.Instant
  ) async throws -> ByteBuffer? {
    let eventLoop = channel.eventLoop
    guard expectsReply else {
      let written = eventLoop.makePromise(of: Void.self)
      channel.writeAndFlush(
        OutboundCall(sequenceID: sequenceID, frame: frame, reply: nil),
        promise: written
      )
      try await mapErrors { try await written.futureResult.get() }
      return nil
    }
    let remaining = deadline - .now
    guard remaining > .zero else {
      throw RPCError(.timeout, "the deadline passed before the request to \(address) was sent")
    }
    let reply = eventLoop.makePromise(of: ByteBuffer.self)
    let dispatcher = self.dispatcher
    // The dispatcher starts the timeout when it registers the call, on the loop: a timer
    // started here could fire before the call is registered and be lost.
    let call = OutboundCall(
      sequenceID: sequenceID,
      frame: frame,
      reply: reply,
      timeout: .nanoseconds(remaining.nanoseconds)
    )
    let channel = self.channel
    let address = self.address
    // A write that never reaches the dispatcher (the channel closed and its handlers were
    // removed) must still fail the reply, or the call would wait forever, deaf to timeouts and
    // cancellation. On the loop, so this costs no more hops than writing from here would.
    eventLoop.execute {
      let written = eventLoop.makePromise(of: Void.self)
      written.futureResult.whenFailure { error in
        reply.fail(RequestNotSent(address: address, reason: "\(error)"))
      }
      channel.writeAndFlush(call, promise: written)
    }
    return try await withTaskCancellationHandler {
      try await mapErrors { try await reply.futureResult.get() }
    } onCancel: {
      eventLoop.execute {
        dispatcher.value.fail(sequenceID, RPCError(.cancelled, "the call was cancelled"))
      }
    }
  }

  /// Closes the connection; calls in flight fail with a transport error.
  func close() {
    channel.close(promise: nil)
  }

  private nonisolated(nonsending) func mapErrors<T>(
    _ body: nonisolated(nonsending) () async throws -> T
  ) async throws -> T {
    do {
      return try await body()
    } catch let error as RPCError {
      throw error
    } catch let error as RequestNotSent {
      throw error
    } catch {
      throw RPCError(.transport, "connection to \(address) failed: \(error)")
    }
  }
}

/// A request that never left: its connection closed (the peer went away, or it closed idle as
/// the pool chose it) before the write. Nothing reached the server, so the pool may send it
/// again on another connection.
struct RequestNotSent: Error, CustomStringConvertible {
  let address: InstanceAddress
  let reason: String

  var description: String { "cannot send to \(address): \(reason)" }
}

extension Duration {
  /// The duration in whole nanoseconds, saturating.
  package var nanoseconds: Int64 {
    let (seconds, attoseconds) = components
    let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return seconds < 0 ? .min : .max }
    return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).overflow
      ? .max : scaled + attoseconds / 1_000_000_000
  }
}

/// The calls holding one connection, and whether it closed idle, in one atomic: the idle
/// closer takes the connection only while no call holds it, and a call can hold it only until
/// then, so a request is never handed a connection that closes idle before its write.
package final class ConnectionClaims: Sendable {
  /// The count once the connection closed idle; no call may hold it after that.
  private static let closedIdle = -1
  private let value = Atomic<Int>(0)

  /// A connection no call holds yet.
  package init() {}

  /// Calls holding the connection.
  package var count: Int { max(0, value.load(ordering: .relaxed)) }

  /// Adds a call's hold; `false` once the connection closed idle.
  package func claim() -> Bool {
    var current = value.load(ordering: .relaxed)
    while current != Self.closedIdle {
      let (exchanged, original) = value.compareExchange(
        expected: current,
        desired: current + 1,
        ordering: .acquiringAndReleasing
      )
      if exchanged { return true }
      current = original
    }
    return false
  }

  /// Ends a call's hold.
  package func release() {
    value.subtract(1, ordering: .releasing)
  }

  /// Marks the connection closed idle when no call holds it; `false` when one does.
  package func closeIfUnclaimed() -> Bool {
    value.compareExchange(expected: 0, desired: Self.closedIdle, ordering: .acquiringAndReleasing)
      .exchanged
  }
}

/// A request on its way out, with the promise its reply completes.
struct OutboundCall: Sendable {
  var sequenceID: Int32
  var frame: ByteBuffer
  var reply: EventLoopPromise<ByteBuffer>?
  /// How long to wait for the reply.
  var timeout: TimeAmount?
}

/// Keeps the replies awaited on one connection by sequence id and completes each when its
/// frame arrives; fails them all when the connection goes away. Runs on the channel's loop.
final class ReplyDispatcher: ChannelDuplexHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundIn = OutboundCall
  typealias OutboundOut = ByteBuffer

  private let address: InstanceAddress
  private let limits: ThriftLimits
  private var waiting: [Int32: (reply: EventLoopPromise<ByteBuffer>, timer: Scheduled<Void>?)] = [:]
  private var closedError: RPCError?
  private let claims: ConnectionClaims

  init(address: InstanceAddress, limits: ThriftLimits, claims: ConnectionClaims) {
    self.address = address
    self.limits = limits
    self.claims = claims
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    let call = unwrapOutboundIn(data)
    if let closedError {
      // The peer closed the connection after the pool chose it: the request never left, so
      // the pool sends it on another connection.
      let notSent = RequestNotSent(address: address, reason: closedError.message)
      call.reply?.fail(notSent)
      promise?.fail(notSent)
      return
    }
    let sequenceID = call.sequenceID
    if let reply = call.reply {
      let timer = call.timeout.map { timeout in
        context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
          self.fail(
            sequenceID,
            RPCError(
              .timeout,
              "no reply from \(self.address) within \(timeout.nanoseconds / 1_000_000) ms"
            )
          )
        }
      }
      waiting[sequenceID] = (reply, timer)
    }
    let written = promise ?? context.eventLoop.makePromise()
    let address = self.address
    written.futureResult.assumeIsolated().whenFailure { error in
      guard let channelError = error as? ChannelError, channelError == .ioOnClosedChannel else {
        self.fail(sequenceID, RPCError(.transport, "cannot send to \(address): \(error)"))
        return
      }
      // Refused before a byte left (the connection closed under the write, as an idle close
      // can): nothing reached the server, so the pool sends it on another connection.
      self.fail(sequenceID, RequestNotSent(address: address, reason: "\(error)"))
    }
    context.write(wrapOutboundOut(call.frame), promise: written)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    var reader = ThriftBinaryReader(buffer: frame, limits: limits)
    guard let header = try? reader.readMessageBegin() else {
      // A reply we cannot even attribute: the stream cannot be trusted any more.
      failAll(RPCError(.protocolError, "unreadable reply header from \(address)"))
      context.close(promise: nil)
      return
    }
    // A reply nobody waits for is one whose call timed out or was cancelled: dropped.
    if let call = waiting.removeValue(forKey: header.sequenceID) {
      call.timer?.cancel()
      call.reply.succeed(frame)
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    failAll(RPCError(.transport, "connection to \(address) closed"))
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    failAll(RPCError(.transport, "connection to \(address) failed: \(error)"))
    context.close(promise: nil)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    // Idle with no call holding it: close, and the pool opens a new connection when needed.
    if event is IdleStateHandler.IdleStateEvent, waiting.isEmpty, claims.closeIfUnclaimed() {
      context.close(promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  /// Fails one awaited reply (timeout, cancellation, write failure).
  func fail(_ sequenceID: Int32, _ error: any Error) {
    guard let call = waiting.removeValue(forKey: sequenceID) else { return }
    call.timer?.cancel()
    call.reply.fail(error)
  }

  private func failAll(_ error: RPCError) {
    if closedError == nil { closedError = error }
    let failed = waiting
    waiting.removeAll()
    for call in failed.values {
      call.timer?.cancel()
      call.reply.fail(error)
    }
  }
}
