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

    /// Creates a configuration.
    public init(
      host: String = "127.0.0.1",
      port: Int,
      identity: ServiceIdentity,
      limits: ThriftLimits = .default,
      maxConcurrentCallsPerConnection: Int = 1024
    ) {
      self.host = host
      self.port = port
      self.identity = identity
      self.limits = limits
      self.maxConcurrentCallsPerConnection = maxConcurrentCallsPerConnection
    }
  }

  /// The configuration the server was bound with.
  public let configuration: Configuration
  /// The full server chain, outermost first.
  public let chain: MiddlewareChain
  /// The address the server listens on (with the real port when 0 was asked for).
  public let localAddress: InstanceAddress
  // Internal but inlinable: `run()` is specialized for the handler type in the caller's module,
  // which keeps runtime generic-metadata lookups off the per-call path.
  @usableFromInline let service: Handler
  @usableFromInline let listener: NIOAsyncChannel<NIOAsyncChannel<ReceivedFrame, Never>, Never>
  @usableFromInline let logger: Logger

  /// Binds a server; call ``run()`` to serve.
  ///
  /// - Parameters:
  ///   - service: The generated processor wrapping the handler (`ExampleServiceProcessor(…)`).
  ///   - configuration: Where to listen and what to accept.
  ///   - middleware: The service author's middlewares, outermost first.
  ///   - group: The event loops; NIO's shared singleton by default.
  ///   - logger: Where connection errors are reported.
  /// - Throws: The bind error (address in use, permission).
  public static func bind(
    _ service: Handler,
    configuration: Configuration,
    middleware: [any Middleware] = [],
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    logger: Logger = Logger(label: "skein.server")
  ) async throws -> RPCServer {
    let maxFrameSize = configuration.limits.maxFrameSize
    let listener = try await ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 256)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .bind(host: configuration.host, port: configuration.port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(ThriftFrameDecoder(maxFrameSize: maxFrameSize)),
            ArrivalStamper()
          )
          return try NIOAsyncChannel<ReceivedFrame, Never>(wrappingChannelSynchronously: channel)
        }
      }
    let address = listener.channel.localAddress
    return RPCServer(
      service: service,
      configuration: configuration,
      chain: MiddlewareChain([DeadlineMiddleware()] + middleware),
      localAddress: InstanceAddress(
        host: address?.ipAddress ?? configuration.host,
        port: address?.port ?? configuration.port
      ),
      listener: listener,
      logger: logger
    )
  }

  private init(
    service: Handler,
    configuration: Configuration,
    chain: MiddlewareChain,
    localAddress: InstanceAddress,
    listener: NIOAsyncChannel<NIOAsyncChannel<ReceivedFrame, Never>, Never>,
    logger: Logger
  ) {
    self.service = service
    self.configuration = configuration
    self.chain = chain
    self.localAddress = localAddress
    self.listener = listener
    self.logger = logger
  }

  /// Serves until the task is cancelled or a graceful shutdown drains it.
  @inlinable
  public func run() async throws {
    try await listener.executeThenClose { connections in
      try await withThrowingDiscardingTaskGroup { group in
        for try await connection in connections.cancelOnGracefulShutdown() {
          group.addTask { await self.serve(connection) }
        }
      }
    }
  }

  /// Reads requests off one connection and answers each in its own task.
  @inlinable
  func serve(_ connection: NIOAsyncChannel<ReceivedFrame, Never>) async {
    let peer = connection.channel.remoteAddress
    let remote = peer.flatMap { address in
      address.port.map { InstanceAddress(host: address.ipAddress ?? "?", port: $0) }
    }
    let maxConcurrent = max(1, configuration.maxConcurrentCallsPerConnection)
    do {
      let replies = ReplyWriter(channel: connection.channel)
      try await connection.executeThenClose { requests, _ in
        // A discarding group frees each finished call at once; the limiter bounds how many
        // run, so a fast client meets the socket's backpressure instead of growing this process.
        let limiter = CallLimiter(limit: maxConcurrent)
        try await withThrowingDiscardingTaskGroup { group in
          for try await request in requests.cancelOnGracefulShutdown() {
            await limiter.acquire()
            group.addTask {
              defer { limiter.release() }
              let interceptor = ServerCallInterceptor(
                identity: self.configuration.identity,
                remote: remote,
                chain: self.chain,
                received: request.received
              )
              let processor = ThriftProcessor(self.service, limits: self.configuration.limits)
              if let reply = await processor.process(
                request.frame,
                framed: true,
                interceptor: interceptor
              ) {
                try await replies.write(reply)
              }
            }
          }
          // Requests stop on close or graceful shutdown; the calls in flight still reply
          // before the group returns.
        }
        await replies.drain()
      }
    } catch {
      logger.debug(
        "connection closed",
        metadata: ["peer": "\(remote?.description ?? "?")", "error": "\(error)"]
      )
    }
  }
}

/// A request frame and when it came off the socket.
@usableFromInline
struct ReceivedFrame: Sendable {
  @usableFromInline var frame: ByteBuffer
  @usableFromInline var received: ContinuousClock.Instant
}

/// Stamps each frame with its arrival time, so a request that waits in the server (behind
/// ``RPCServer/Configuration/maxConcurrentCallsPerConnection``) spends its own budget waiting.
final class ArrivalStamper: ChannelInboundHandler, Sendable {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ReceivedFrame

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = ReceivedFrame(frame: unwrapInboundIn(data), received: .now)
    context.fireChannelRead(wrapInboundOut(frame))
  }
}
