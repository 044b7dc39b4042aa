public import Foundation
public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle
public import SkeinHTTP
public import SkeinRPC
import SkeinThrift
import Synchronization

/// A node's admin endpoint, on loopback by default:
///
/// - `GET /metrics`: Prometheus text of the last interval's snapshot;
/// - `GET /snapshot`: the last ``NodeSnapshot`` as JSON;
/// - `GET /stream`: one snapshot per line (newline-delimited JSON) every interval, until the
///   client leaves.
///
/// The endpoint takes one snapshot per ``Configuration/interval`` (each restarts the latency
/// histograms, so there is one ticker however many readers there are) and hands it to every
/// reader. A reader that falls behind skips to the newest snapshots: counts are cumulative, so
/// a skipped line loses one interval's latencies, never a call.
///
/// Who may read: nothing here changes the node, so on loopback (the default) anyone on the
/// machine may. Listening beyond loopback needs ``Configuration/allowNonLoopback`` and a
/// ``Configuration/token``; with a token every request must carry it in the `Authorization`
/// header (bare or `Bearer TOKEN`, as a Prometheus scrape config's `authorization` sends it),
/// since a node's routes, callers and load are not for whoever reaches the port. A request
/// without it gets 401 and is logged with the peer's address.
public final class AdminServer: Service, Sendable {
  /// Where the endpoint listens and how often it snapshots.
  public struct Configuration: Sendable {
    /// The default interval: 1 s.
    public static let defaultInterval = Duration.seconds(1)
    /// The shortest interval allowed: 100 ms.
    public static let minimumInterval = Duration.milliseconds(100)
    /// Snapshots kept for a slow stream reader before older ones are skipped.
    public static let defaultStreamBuffer = 8

    /// The address to listen on; loopback by default.
    public var host: String
    /// The port; 0 picks a free one.
    public var port: Int
    /// Time between snapshots, at least ``minimumInterval``.
    public var interval: Duration
    /// Snapshots buffered per stream reader.
    public var streamBuffer: Int
    /// Whether ``host`` may be beyond loopback; it also needs a ``token``.
    public var allowNonLoopback: Bool
    /// The token every request must carry; `nil` (the default, loopback only): none.
    public var token: AccessToken?
    /// Where refused requests are logged, with the peer's address.
    public var logger: Logger

    /// Creates a configuration.
    public init(
      host: String = "127.0.0.1",
      port: Int = 0,
      interval: Duration = Configuration.defaultInterval,
      streamBuffer: Int = Configuration.defaultStreamBuffer,
      allowNonLoopback: Bool = false,
      token: AccessToken? = nil,
      logger: Logger = Logger(label: "skein.admin")
    ) {
      self.allowNonLoopback = allowNonLoopback
      self.token = token
      self.logger = logger
      self.host = host
      self.port = port
      self.interval = max(interval, Self.minimumInterval)
      self.streamBuffer = max(1, streamBuffer)
    }
  }

  /// The configuration.
  public let configuration: Configuration
  /// The snapshotter the endpoint ticks.
  public let snapshotter: Snapshotter
  private let http: HTTPServer
  private let readers: Readers

  /// The address the endpoint listens on.
  public var localAddress: InstanceAddress { http.localAddress }

  /// Binds the endpoint; call ``run()`` to serve and tick.
  ///
  /// - Throws: ``ListenRefused`` for a host beyond loopback without
  ///   ``Configuration/allowNonLoopback`` and a ``Configuration/token``; the bind error.
  public static func bind(
    snapshotter: Snapshotter,
    configuration: Configuration = Configuration(),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> AdminServer {
    let readers = Readers()
    let http = try await HTTPServer.bind(
      configuration: .init(
        host: configuration.host,
        port: configuration.port,
        maxRequestBodySize: 0,
        allowNonLoopback: configuration.allowNonLoopback,
        token: configuration.token
      ),
      group: group,
      what: "the admin endpoint",
      flags: "AdminServer.Configuration's allowNonLoopback and token"
    ) { request in
      Self.answer(request, snapshotter: snapshotter, readers: readers, configuration: configuration)
    }
    return AdminServer(
      configuration: configuration,
      snapshotter: snapshotter,
      http: http,
      readers: readers
    )
  }

  private init(
    configuration: Configuration,
    snapshotter: Snapshotter,
    http: HTTPServer,
    readers: Readers
  ) {
    self.configuration = configuration
    self.snapshotter = snapshotter
    self.http = http
    self.readers = readers
  }

  /// Serves and takes a snapshot per interval until cancelled or a graceful shutdown begins.
  public func run() async throws {
    try? await cancelWhenGracefulShutdown { try await self.serve() }
  }

  private func serve() async throws {
    try await withThrowingDiscardingTaskGroup { group in
      group.addTask {
        while !Task.isCancelled {
          try await Task.sleep(for: self.configuration.interval)
          self.readers.publish(self.snapshotter.take())
        }
      }
      defer { group.cancelAll() }
      try await http.run()
    }
  }

  private static func answer(
    _ request: HTTPRequest,
    snapshotter: Snapshotter,
    readers: Readers,
    configuration: Configuration
  ) -> HTTPResponse {
    if let token = configuration.token, !token.isPresented(in: request) {
      configuration.logger.warning(
        "refused a request without the admin endpoint's token",
        metadata: ["peer": "\(request.peer ?? "unknown")", "path": "\(request.path)"]
      )
      return text(
        "\(request.path) needs the admin endpoint's token in the Authorization header\n",
        status: .unauthorized
      )
    }
    guard request.method == .GET else {
      return text("\(request.path) takes GET\n", status: .methodNotAllowed)
    }
    switch request.path {
    case "/metrics":
      let snapshot = snapshotter.last ?? snapshotter.take()
      return HTTPResponse(
        contentType: "text/plain; version=0.0.4; charset=utf-8",
        Data(PrometheusText.render(snapshot).utf8)
      )
    case "/snapshot":
      let snapshot = snapshotter.last ?? snapshotter.take()
      return HTTPResponse(contentType: "application/json", (try? line(snapshot)) ?? Data())
    case "/stream":
      guard let format = StreamFormat(rawValue: request.query["format"] ?? "json") else {
        return text("/stream?format= takes json or thrift\n", status: .badRequest)
      }
      let snapshots = readers.subscribe(format, buffer: configuration.streamBuffer)
      return HTTPResponse(
        contentType: format.contentType,
        body: .stream { writer in
          // The last snapshot first, so a reader sees figures at once.
          if let last = snapshotter.last, let data = try? format.encode(last) {
            try await writer.write(data)
          }
          for await data in snapshots { try await writer.write(data) }
        }
      )
    default:
      return text(
        "no \(request.path): the admin endpoint serves /metrics, /snapshot and /stream\n",
        status: .notFound
      )
    }
  }

  private static func text(_ message: String, status: HTTPResponseStatus) -> HTTPResponse {
    HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", Data(message.utf8))
  }

  static func line(_ snapshot: NodeSnapshot) throws -> Data {
    try MetricsJSON.line(snapshot)
  }

  /// The stream readers, each with its own bounded buffer and format.
  private final class Readers: Sendable {
    private struct Reader {
      var format: StreamFormat
      var continuation: AsyncStream<Data>.Continuation
    }

    private let readers = Mutex<[Int: Reader]>([:])
    private let nextID = Atomic<Int>(0)

    func subscribe(_ format: StreamFormat, buffer: Int) -> AsyncStream<Data> {
      let id = nextID.add(1, ordering: .relaxed).newValue
      let (stream, continuation) = AsyncStream.makeStream(
        of: Data.self,
        bufferingPolicy: .bufferingNewest(buffer)
      )
      continuation.onTermination = { [weak self] _ in
        _ = self?.readers.withLock { $0.removeValue(forKey: id) }
      }
      readers.withLock { $0[id] = Reader(format: format, continuation: continuation) }
      return stream
    }

    /// Sends `snapshot` to every reader, encoded once per format some reader wants.
    func publish(_ snapshot: NodeSnapshot) {
      let current = readers.withLock { Array($0.values) }
      var encoded: [StreamFormat: Data] = [:]
      for reader in current {
        if encoded[reader.format] == nil {
          encoded[reader.format] = try? reader.format.encode(snapshot)
        }
        if let data = encoded[reader.format] { reader.continuation.yield(data) }
      }
    }
  }
}

/// How `/stream` sends snapshots: JSON lines (the default, for people and scripts) or framed
/// Thrift binary structs, each after its 4-byte big-endian length (for the stream client,
/// which decodes them an order of magnitude faster).
public enum StreamFormat: String, Sendable, Hashable, CaseIterable {
  /// One JSON snapshot per line.
  case json
  /// One framed Thrift binary snapshot after another.
  case thrift

  /// The response's content type.
  public var contentType: String {
    switch self {
    case .json: "application/x-ndjson"
    case .thrift: "application/x-skein-snapshot-thrift"
    }
  }

  /// The bytes one snapshot takes in this format.
  public func encode(_ snapshot: NodeSnapshot) throws -> Data {
    switch self {
    case .json:
      return try MetricsJSON.line(snapshot)
    case .thrift:
      var writer = ThriftBinaryWriter(capacity: 4096)
      let frame = writer.beginFrame()
      snapshot.write(to: &writer)
      try writer.endFrame(at: frame, maxFrameSize: MeshStatsClient.maxSnapshotBytes)
      return Data(writer.buffer.readableBytesView)
    }
  }
}

/// How the metrics JSON is written everywhere (stream lines, `skein stats --json`): one line,
/// keys sorted so scripts and diffs see a stable order.
public enum MetricsJSON {
  /// `value` as one line of JSON, newline included.
  public static func line(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(value) + Data("\n".utf8)
  }
}
