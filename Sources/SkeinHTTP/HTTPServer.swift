public import Foundation
public import NIOCore
public import NIOHTTP1
public import NIOPosix
public import SkeinRPC
public import Synchronization

/// A small HTTP/1.1 server for Skein's own endpoints: the embedded config store and each
/// node's admin endpoint. One handler answers every request, with a complete body or a stream
/// of chunks (a watch, a snapshot stream) that runs until it ends or the client leaves.
///
/// Limits have names and defaults: a request body over ``Configuration/maxRequestBodySize``
/// is read and dropped (the handler sees ``HTTPRequest/bodyTooLarge`` and answers it, so the
/// client reads the error and the connection stays usable); connections over
/// ``Configuration/maxConnections`` are closed as they arrive; bytes that are not HTTP get a
/// 400 and only that connection ends.
public final class HTTPServer: Sendable {
  /// Where the server listens and what it accepts.
  public struct Configuration: Sendable {
    /// Request bodies up to 1.5 MiB by default (etcd's own default).
    public static let defaultMaxRequestBodySize = 1_572_864
    /// Connections open at once by default; each stream holds one.
    public static let defaultMaxConnections = 4096

    /// The address to listen on; loopback by default.
    public var host: String
    /// The port; 0 picks a free one (see ``HTTPServer/localAddress``).
    public var port: Int
    /// The largest request body kept.
    public var maxRequestBodySize: Int
    /// Connections open at once.
    public var maxConnections: Int
    /// Whether ``host`` may be an address beyond loopback; off by default, and on it also
    /// needs ``token`` (see ``ListenPolicy``).
    public var allowNonLoopback: Bool
    /// The token the endpoint's handler checks; the server itself only requires one before
    /// listening beyond loopback.
    public var token: AccessToken?

    /// Creates a configuration.
    public init(
      host: String = "127.0.0.1",
      port: Int = 0,
      maxRequestBodySize: Int = Configuration.defaultMaxRequestBodySize,
      maxConnections: Int = Configuration.defaultMaxConnections,
      allowNonLoopback: Bool = false,
      token: AccessToken? = nil
    ) {
      self.host = host
      self.port = port
      self.maxRequestBodySize = max(0, maxRequestBodySize)
      self.maxConnections = max(1, maxConnections)
      self.allowNonLoopback = allowNonLoopback
      self.token = token
    }
  }

  /// Answers one request.
  public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

  /// The configuration the server was bound with.
  public let configuration: Configuration
  /// The address the server listens on (with the real port when 0 was asked for).
  public let localAddress: InstanceAddress

  typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

  private let listener: NIOAsyncChannel<Connection, Never>
  private let handler: Handler
  private let openConnections = Atomic<Int>(0)

  /// Binds a server; call ``run()`` to serve.
  ///
  /// - Parameters:
  ///   - configuration: Where to listen and the limits.
  ///   - group: The event loops.
  ///   - what: The endpoint, as a refusal to listen names it (`the config store`).
  ///   - flags: How a person allows listening beyond loopback, as the refusal names it.
  ///   - handler: Answers every request.
  /// - Throws: ``ListenRefused`` for a host beyond loopback without ``Configuration/allowNonLoopback``
  ///   and a ``Configuration/token``; the bind error (address in use, permission).
  public static func bind(
    configuration: Configuration = Configuration(),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    what: String = "HTTP",
    flags: String = "allowNonLoopback and a token in the configuration",
    handler: @escaping Handler
  ) async throws -> HTTPServer {
    try ListenPolicy.check(
      host: configuration.host,
      allowNonLoopback: configuration.allowNonLoopback,
      token: configuration.token,
      what: what,
      flags: flags
    )
    let listener = try await ServerBootstrap.skeinListener(group: group)
      .bind(host: configuration.host, port: configuration.port) { channel in
        channel.eventLoop.makeCompletedFuture {
          // No pipelining assistance: each connection's requests are answered in order by
          // `serve`, and a stream must keep reading so it notices the client leave.
          try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withErrorHandling: true
          )
          return try Connection(wrappingChannelSynchronously: channel)
        }
      }
    return HTTPServer(
      configuration: configuration,
      localAddress: InstanceAddress(
        listening: listener.channel,
        host: configuration.host,
        port: configuration.port
      ),
      listener: listener,
      handler: handler
    )
  }

  private init(
    configuration: Configuration,
    localAddress: InstanceAddress,
    listener: NIOAsyncChannel<Connection, Never>,
    handler: @escaping Handler
  ) {
    self.configuration = configuration
    self.localAddress = localAddress
    self.listener = listener
    self.handler = handler
  }

  /// Serves until the task is cancelled; streams in progress end with it.
  public func run() async throws {
    try await withThrowingDiscardingTaskGroup { group in
      try await listener.executeThenClose { connections in
        for try await connection in connections {
          guard Self.admit(counting: openConnections, limit: configuration.maxConnections) else {
            connection.channel.close(promise: nil)
            continue
          }
          group.addTask {
            defer { self.openConnections.subtract(1, ordering: .relaxed) }
            await self.serve(connection)
          }
        }
      }
    }
  }

  /// Counts one more of something limited, unless the limit is reached.
  public static func admit(counting open: borrowing Atomic<Int>, limit: Int) -> Bool {
    guard open.add(1, ordering: .relaxed).newValue > limit else { return true }
    open.subtract(1, ordering: .relaxed)
    return false
  }

  /// Answers one connection's requests in order until it closes; a stream keeps the
  /// connection for as long as it runs.
  private func serve(_ connection: Connection) async {
    do {
      try await connection.executeThenClose { inbound, outbound in
        var parts = inbound.makeAsyncIterator()
        var reader = RequestReader(maxBodySize: configuration.maxRequestBodySize)
        let peer = InstanceAddress(connection.channel.remoteAddress)?.description
        while let part = try await parts.next() {
          guard var request = reader.read(part) else { continue }
          request.peer = peer
          let response = await handler(request)
          switch response.body {
          case .complete(let body):
            try await Self.write(response, body: body, to: outbound, keepAlive: request.isKeepAlive)
            if !request.isKeepAlive { return }
          case .stream(let produce):
            try await stream(
              response,
              produce,
              on: connection.channel,
              to: outbound,
              draining: &parts
            )
            return
          }
        }
      }
    } catch {
      // The client went away or sent something HTTP cannot parse (the error handler already
      // answered 400); either way only this connection ends.
    }
  }

  private static func write(
    _ response: HTTPResponse,
    body: Data,
    to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
    keepAlive: Bool
  ) async throws {
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: response.contentType)
    headers.add(name: "Content-Length", value: String(body.count))
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    try await outbound.write(
      contentsOf: [
        .head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)),
        .body(.byteBuffer(ByteBuffer(bytes: body))),
        .end(nil),
      ]
    )
  }

  /// Streams a response until its producer ends or the client leaves (the rest of the
  /// connection's input is read so its end is noticed), then closes the connection.
  private func stream(
    _ response: HTTPResponse,
    _ produce: @escaping @Sendable (HTTPStreamWriter) async throws -> Void,
    on channel: any Channel,
    to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
    draining parts: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
  ) async throws {
    try await withThrowingDiscardingTaskGroup { group in
      group.addTask {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        do {
          // The producer runs even when the head could not be written (its first write then
          // throws), so whatever it holds is always released.
          try? await outbound.write(.head(head))
          try await produce(HTTPStreamWriter(outbound: outbound))
          try await outbound.write(.end(nil))
        } catch {
          // The client is gone, or the server stops; closing below ends the drain.
        }
        channel.close(promise: nil)
      }
      // Nothing more is expected from a streaming client; its end (or the channel's close)
      // ends the stream.
      while try await parts.next() != nil {}
      group.cancelAll()
    }
  }
}

/// One request: its head, its body (unless it was too large), and its path and query taken
/// apart.
public struct HTTPRequest: Sendable {
  /// The request line and headers.
  public var head: HTTPRequestHead
  /// The body; empty when it was over the limit.
  public var body: Data
  /// Whether the body was over ``HTTPServer/Configuration/maxRequestBodySize`` (and dropped).
  public var bodyTooLarge: Bool
  /// Who sent it (`host:port`), when the socket knows: what a refusal is logged with.
  public var peer: String?

  /// Creates a request.
  public init(head: HTTPRequestHead, body: Data = Data(), bodyTooLarge: Bool = false) {
    self.head = head
    self.body = body
    self.bodyTooLarge = bodyTooLarge
  }

  /// The method.
  public var method: HTTPMethod { head.method }
  /// The path, without the query.
  public var path: String {
    head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(
      String.init
    )
      ?? ""
  }
  /// The query's `name=value` pairs (the last of a repeated name wins).
  public var query: [String: String] {
    guard let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first else {
      return [:]
    }
    var pairs: [String: String] = [:]
    for item in query.split(separator: "&") {
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
      let value =
        parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
      pairs[name] = value
    }
    return pairs
  }
  /// Whether the connection stays open after the answer.
  public var isKeepAlive: Bool { head.isKeepAlive }
}

/// What to send back.
public struct HTTPResponse: Sendable {
  /// The status.
  public var status: HTTPResponseStatus
  /// The `Content-Type`.
  public var contentType: String
  /// The body: complete, or produced over time.
  public var body: Body

  /// A body.
  public enum Body: Sendable {
    /// All of it, sent with its length.
    case complete(Data)
    /// Chunks written by the producer until it returns; it is cancelled when the client
    /// leaves or the server stops.
    case stream(@Sendable (HTTPStreamWriter) async throws -> Void)
  }

  /// Creates a response.
  public init(status: HTTPResponseStatus = .ok, contentType: String, body: Body) {
    self.status = status
    self.contentType = contentType
    self.body = body
  }

  /// A complete response.
  public init(status: HTTPResponseStatus = .ok, contentType: String, _ body: Data) {
    self.init(status: status, contentType: contentType, body: .complete(body))
  }
}

/// Writes a streamed response's chunks.
public struct HTTPStreamWriter: Sendable {
  let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

  /// Writes one chunk; throws when the client is gone.
  public func write(_ chunk: Data) async throws {
    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
  }
}

/// Puts a request together from its parts. A body over the limit is not kept: the rest of it
/// is read and dropped, so the connection stays usable and the client reads the answer.
struct RequestReader {
  let maxBodySize: Int
  private var head: HTTPRequestHead?
  private var body = Data()
  private var tooLarge = false

  init(maxBodySize: Int) { self.maxBodySize = maxBodySize }

  /// Takes one part; returns the request when its end arrived.
  mutating func read(_ part: HTTPServerRequestPart) -> HTTPRequest? {
    switch part {
    case .head(let head):
      self.head = head
      body = Data()
      let declared = head.headers.first(name: "Content-Length").flatMap(Int.init) ?? 0
      tooLarge = declared > maxBodySize
      return nil
    case .body(let chunk):
      guard !tooLarge else { return nil }
      if body.count + chunk.readableBytes > maxBodySize {
        tooLarge = true
        body = Data()
      } else {
        body.append(contentsOf: chunk.readableBytesView)
      }
      return nil
    case .end:
      guard let head else { return nil }
      self.head = nil
      defer { body = Data() }
      return HTTPRequest(head: head, body: body, bodyTooLarge: tooLarge)
    }
  }
}
