public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
public import SkeinThrift
import Synchronization

/// A Thrift server over SwiftNIO: framed binary protocol on TCP.
///
/// Requests on one connection are handled concurrently (up to
/// ``Configuration/maxConcurrentCallsPerConnection``) and each reply carries its request's
/// sequence id; oneway calls get no reply. An unknown method, undecodable arguments or a
/// handler's error become an exception reply and the connection stays open; bytes no honest
/// peer sends (a bad frame, corrupt arguments, a frame trickled in past
/// ``Configuration/frameReadTimeout``) close it, with the reason logged. On graceful
/// shutdown (swift-service-lifecycle) the server stops accepting, stops reading new requests,
/// lets the calls in flight finish and reply, then closes.
///
/// The server chain is built in one place, ``chain``: ``DeadlineMiddleware`` first, then the
/// middlewares the service author passed, then the handler.
public final class RPCServer<Handler: ThriftService>: Service, Sendable {
  /// How a server listens and what it accepts.
  public struct Configuration: Sendable {
    /// The address to listen on; `127.0.0.1` by default.
    public var host: String
    /// The port; 0 picks a free one (see ``RPCServer/localAddress``).
    public var port: Int
    /// What the server serves as: the `to` of its routes.
    public var identity: ServiceIdentity
    /// Limits on request frames and values.
    public var limits: ThriftLimits
    /// Calls handled at once on one connection; further requests wait (default 1024).
    public var maxConcurrentCallsPerConnection: Int
    /// Whether handlers run on the event loop that read their request (default `true`).
    ///
    /// On the loop, a call that does not suspend costs no thread hop, which halves the
    /// server's CPU per call. A handler that computes for long or blocks holds up every
    /// connection on its loop, though: set `false` to run handlers on Swift's global
    /// concurrent executor instead.
    public var handlersRunOnEventLoop: Bool
    /// How long one request frame may take to arrive, from its first byte (or the end of the
    /// frame before it) to its last (default 30 s). A peer that trickles a frame in, or stops
    /// halfway, would otherwise hold its connection and buffer for ever (slowloris); past
    /// this the connection is closed and the reason logged.
    public var frameReadTimeout: Duration
    /// How long a connection may stay open with no call running and no request arriving
    /// before the server closes it (default 5 minutes; `nil` keeps idle connections open).
    /// Keep it above the clients' own idle timeout, so that a client normally closes first.
    public var idleTimeout: Duration?
    /// The most connections served at once (default 4096). One past the limit is accepted
    /// and closed at once, with a log line, so the connections already open keep working and
    /// the refused caller sees a closed connection rather than a hang.
    public var maxConnections: Int

    /// Creates a configuration.
    public init(
      host: String = "127.0.0.1",
      port: Int,
      identity: ServiceIdentity,
      limits: ThriftLimits = .default,
      maxConcurrentCallsPerConnection: Int = 1024,
      handlersRunOnEventLoop: Bool = true,
      frameReadTimeout: Duration = .seconds(30),
      idleTimeout: Duration? = .seconds(300),
      maxConnections: Int = 4096
    ) {
      self.host = host
      self.port = port
      self.identity = identity
      self.limits = limits
      self.maxConcurrentCallsPerConnection = maxConcurrentCallsPerConnection
      self.handlersRunOnEventLoop = handlersRunOnEventLoop
      self.frameReadTimeout = frameReadTimeout
      self.idleTimeout = idleTimeout
      self.maxConnections = maxConnections
    }
  }

  /// The configuration the server was bound with.
  public let configuration: Configuration
  /// The full server chain, outermost first.
  public let chain: MiddlewareChain
  /// The address the server listens on (with the real port when 0 was asked for).
  public let localAddress: InstanceAddress
  private let listener: NIOAsyncChannel<any Channel, Never>

  /// Binds a server; call ``run()`` to serve.
  ///
  /// - Parameters:
  ///   - service: The generated processor wrapping the handler (`ExampleServiceProcessor(…)`).
  ///   - configuration: Where to listen and what to accept.
  ///   - middleware: The service author's middlewares, outermost first.
  ///   - group: The event loops; NIO's shared singleton by default.
  ///   - logger: Where connection errors are reported.
  /// - Throws: The bind error (address in use, permission).
  @inlinable
  public static func bind(
    _ service: Handler,
    configuration: Configuration,
    middleware: [any Middleware] = [],
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    logger: Logger = Logger(label: "skein.server")
  ) async throws -> RPCServer {
    let chain = MiddlewareChain([DeadlineMiddleware()] + middleware)
    // What every call shares, behind one reference: an interceptor is copied a few times per
    // call, and each copy of the identity and chain themselves retained four objects.
    let shared = ServerCallInterceptor.Shared(identity: configuration.identity, chain: chain)
    let processor = ThriftProcessor(service, limits: configuration.limits)
    // Made here, inlined into the caller's module where `Handler` is concrete: the per-call
    // path is then specialized, free of runtime generic-metadata lookups.
    let call: ServerConnectionHandler.Call = { frame, received, remote in
      let interceptor = ServerCallInterceptor(shared: shared, remote: remote, received: received)
      return await processor.handle(frame, framed: true, interceptor: interceptor)
    }
    return try await bind(
      configuration: configuration,
      chain: chain,
      call: call,
      group: group,
      logger: logger
    )
  }

  @usableFromInline
  static func bind(
    configuration: Configuration,
    chain: MiddlewareChain,
    call: @escaping ServerConnectionHandler.Call,
    group: any EventLoopGroup,
    logger: Logger
  ) async throws -> RPCServer {
    let maxFrameSize = configuration.limits.maxFrameSize
    let maxConcurrentCalls = configuration.maxConcurrentCallsPerConnection
    let open = OpenConnections(limit: configuration.maxConnections)
    let listener = try await ServerBootstrap.skeinListener(group: group)
      .bind(host: configuration.host, port: configuration.port) { channel in
        guard open.admit() else {
          // Accepted by the kernel already: closing it at once tells the caller, where
          // leaving it in the backlog would make it wait for its connect timeout.
          logger.notice(
            "refusing connection: maxConnections reached",
            metadata: [
              "peer": "\(InstanceAddress(channel.remoteAddress)?.description ?? "?")",
              "limit": "maxConnections",
              "maxConnections": "\(configuration.maxConnections)",
            ]
          )
          return channel.close().map { channel }
        }
        channel.closeFuture.whenComplete { _ in open.release() }
        return channel.eventLoop.makeCompletedFuture { () -> any Channel in
          try channel.pipeline.syncOperations.addHandlers(
            ThriftFrameHandler(maxFrameSize: maxFrameSize, reportsProgress: true),
            ServerConnectionHandler(
              eventLoop: channel.eventLoop,
              maxConcurrentCalls: maxConcurrentCalls,
              handlersRunOnEventLoop: configuration.handlersRunOnEventLoop,
              frameReadTimeout: configuration.frameReadTimeout,
              idleTimeout: configuration.idleTimeout,
              logger: logger,
              call: call
            )
          )
          return channel
        }
      }
    return RPCServer(
      configuration: configuration,
      chain: chain,
      localAddress: InstanceAddress(
        listening: listener.channel,
        host: configuration.host,
        port: configuration.port
      ),
      listener: listener
    )
  }

  private init(
    configuration: Configuration,
    chain: MiddlewareChain,
    localAddress: InstanceAddress,
    listener: NIOAsyncChannel<any Channel, Never>
  ) {
    self.configuration = configuration
    self.chain = chain
    self.localAddress = localAddress
    self.listener = listener
  }

  /// Serves until the task is cancelled or a graceful shutdown drains it.
  public func run() async throws {
    try await listener.executeThenClose { connections in
      try await withThrowingDiscardingTaskGroup { group in
        for try await connection in connections.cancelOnGracefulShutdown() {
          group.addTask { await Self.serve(connection) }
        }
      }
    }
  }

  /// Waits for a connection to end; the requests are read and answered on its event loop by
  /// ``ServerConnectionHandler``.
  private static func serve(_ connection: any Channel) async {
    await withGracefulShutdownHandler {
      await withTaskCancellationHandler {
        try? await connection.closeFuture.get()
      } onCancel: {
        connection.close(promise: nil)
      }
    } onGracefulShutdown: {
      // No new requests; the calls in flight answer, then the handler closes the connection.
      connection.pipeline.fireUserInboundEventTriggered(ServerConnectionHandler.StopReading())
    }
  }
}

/// The count of a server's open connections, against ``RPCServer/Configuration/maxConnections``.
final class OpenConnections: Sendable {
  private let limit: Int
  private let count = Atomic<Int>(0)

  init(limit: Int) {
    self.limit = max(1, limit)
  }

  /// Counts a new connection in, or returns `false` when the server is full.
  func admit() -> Bool {
    while true {
      let current = count.load(ordering: .relaxed)
      if current >= limit { return false }
      if count.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
        .exchanged
      {
        return true
      }
    }
  }

  /// Counts a closed connection out.
  func release() {
    count.subtract(1, ordering: .relaxed)
  }
}
