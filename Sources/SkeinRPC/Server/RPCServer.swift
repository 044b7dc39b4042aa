public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
public import SkeinThrift

/// A Thrift server over SwiftNIO: framed binary protocol on TCP.
///
/// Requests on one connection are handled concurrently (up to
/// ``Configuration/maxConcurrentCallsPerConnection``) and each reply carries its request's
/// sequence id; oneway calls get no reply. An unknown method, undecodable arguments or a
/// handler's error become an exception reply and the connection stays open. On graceful
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

    /// Creates a configuration.
    public init(
      host: String = "127.0.0.1",
      port: Int,
      identity: ServiceIdentity,
      limits: ThriftLimits = .default,
      maxConcurrentCallsPerConnection: Int = 1024,
      handlersRunOnEventLoop: Bool = true
    ) {
      self.host = host
      self.port = port
      self.identity = identity
      self.limits = limits
      self.maxConcurrentCallsPerConnection = maxConcurrentCallsPerConnection
      self.handlersRunOnEventLoop = handlersRunOnEventLoop
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
    // Made here, inlined into the caller's module where `Handler` is concrete: the per-call
    // path is then specialized, free of runtime generic-metadata lookups.
    let call: ServerConnectionHandler.Call = { frame, received, remote in
      let interceptor = ServerCallInterceptor(
        identity: configuration.identity,
        remote: remote,
        chain: chain,
        received: received
      )
      return await ThriftProcessor(service, limits: configuration.limits)
        .process(frame, framed: true, interceptor: interceptor)
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
    let listener = try await ServerBootstrap.skeinListener(group: group)
      .bind(host: configuration.host, port: configuration.port) { channel in
        channel.eventLoop.makeCompletedFuture { () -> any Channel in
          try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(ThriftFrameDecoder(maxFrameSize: maxFrameSize)),
            ServerConnectionHandler(
              eventLoop: channel.eventLoop,
              maxConcurrentCalls: maxConcurrentCalls,
              handlersRunOnEventLoop: configuration.handlersRunOnEventLoop,
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
