import Foundation
public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle
public import SkeinHTTP
public import SkeinRPC
import Synchronization

/// The embedded memory store, served over loopback by the process that hosts it, so several
/// processes on one machine share one set of switches and one registry with nothing installed.
///
/// It speaks the subset of etcd's v3 JSON API that ``EtcdConfigStore`` uses (range, put,
/// delete, lease grant/keep-alive/revoke, and the streaming watch), so ``EtcdConfigStore`` is
/// the one network client for both: `memory://HOST:PORT` is an ``EtcdConfigStore`` pointed at
/// this server (see ``ConfigStoreURL``). Revisions, history and leases are the
/// ``MemoryConfigStore``'s; while the server runs it also expires that store's leases.
///
/// Who may do what: it listens on 127.0.0.1 unless ``Configuration/allowNonLoopback`` is set
/// together with a ``Configuration/token``. With a token, every call that changes the store
/// (put, delete, lease grant, keep-alive and revoke) must carry it in the `Authorization`
/// header (bare, as etcd's clients send theirs, or `Bearer TOKEN`); one that does not is refused
/// with HTTP 401 and etcd's `Unauthenticated` error, and logged with the peer's address. Reads
/// (range, watch, health) stay open: the registry's addresses and the switches in force are
/// what every node and dashboard reads, and a dashboard in `--read-only` mode should need no
/// secret to look.
///
/// Bad requests (a body that is not the JSON an endpoint takes, a body over
/// ``Configuration/maxRequestBodySize``, an unknown path) get an HTTP error with etcd's JSON
/// error body, and the server goes on serving.
public final class ConfigStoreServer: Service, Sendable {
  /// Where the server listens and what it accepts; every limit has a default.
  public struct Configuration: Sendable {
    /// etcd's own default request limit (`--max-request-bytes`), 1.5 MiB.
    public static let defaultMaxRequestBodySize = 1_572_864
    /// Watches served at once by default: one per watching caller, so plenty for a machine.
    public static let defaultMaxConcurrentWatches = 1024
    /// Open connections by default; each watch holds one.
    public static let defaultMaxConnections = 4096

    /// The address to listen on; loopback by default. Anything else needs
    /// ``allowNonLoopback`` and a ``token``.
    public var host: String
    /// The port; 0 picks a free one (see ``ConfigStoreServer/url``).
    public var port: Int
    /// The largest request body accepted; larger ones get HTTP 400.
    public var maxRequestBodySize: Int
    /// Watches served at once; more get HTTP 429 (the client backs off and tries again).
    public var maxConcurrentWatches: Int
    /// Connections open at once; more are closed as they arrive.
    public var maxConnections: Int
    /// How often leases whose TTL passed are expired.
    public var leaseExpiryInterval: Duration
    /// Whether ``host`` may be beyond loopback (`skein store serve --allow-remote`); it also
    /// needs a ``token``.
    public var allowNonLoopback: Bool
    /// The token every mutating call must carry; `nil` (the default, loopback only): none.
    public var token: AccessToken?
    /// Where refused calls are logged, with the peer's address.
    public var logger: Logger

    /// Creates a configuration.
    public init(
      host: String = "127.0.0.1",
      port: Int = 0,
      maxRequestBodySize: Int = Configuration.defaultMaxRequestBodySize,
      maxConcurrentWatches: Int = Configuration.defaultMaxConcurrentWatches,
      maxConnections: Int = Configuration.defaultMaxConnections,
      leaseExpiryInterval: Duration = .milliseconds(100),
      allowNonLoopback: Bool = false,
      token: AccessToken? = nil,
      logger: Logger = Logger(label: "skein.store")
    ) {
      self.allowNonLoopback = allowNonLoopback
      self.token = token
      self.logger = logger
      self.host = host
      self.port = port
      self.maxRequestBodySize = max(0, maxRequestBodySize)
      self.maxConcurrentWatches = max(0, maxConcurrentWatches)
      self.maxConnections = max(1, maxConnections)
      self.leaseExpiryInterval = leaseExpiryInterval
    }
  }

  /// The store served.
  public let store: MemoryConfigStore
  /// The configuration the server was bound with.
  public let configuration: Configuration
  private let http: HTTPServer

  /// The address the server listens on (with the real port when 0 was asked for).
  public var localAddress: InstanceAddress { http.localAddress }

  /// `memory://HOST:PORT`: what other processes pass as `--registry`.
  public var url: ConfigStoreURL { ConfigStoreURL(kind: .memory, address: localAddress) }

  /// Binds a server for `store`; call ``run()`` to serve.
  ///
  /// - Parameters:
  ///   - store: The store to serve; a new empty one by default.
  ///   - configuration: Where to listen and the limits.
  ///   - group: The event loops; NIO's shared singleton by default.
  /// - Throws: ``ListenRefused`` for a host beyond loopback without
  ///   ``Configuration/allowNonLoopback`` and a ``Configuration/token``; the bind error
  ///   (address in use, permission).
  public static func bind(
    store: MemoryConfigStore = MemoryConfigStore(),
    configuration: Configuration = Configuration(),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> ConfigStoreServer {
    let endpoints = StoreEndpoints(store: store, configuration: configuration)
    let http = try await HTTPServer.bind(
      configuration: .init(
        host: configuration.host,
        port: configuration.port,
        maxRequestBodySize: configuration.maxRequestBodySize,
        maxConnections: configuration.maxConnections,
        allowNonLoopback: configuration.allowNonLoopback,
        token: configuration.token
      ),
      group: group,
      what: "the config store",
      flags:
        "--allow-remote and --token (or SKEIN_TOKEN) (ConfigStoreServer.Configuration's allowNonLoopback and token)",
      handler: endpoints.answer
    )
    return ConfigStoreServer(store: store, configuration: configuration, http: http)
  }

  private init(store: MemoryConfigStore, configuration: Configuration, http: HTTPServer) {
    self.store = store
    self.configuration = configuration
    self.http = http
  }

  /// Serves, and expires the store's leases, until the task is cancelled or a graceful
  /// shutdown begins (a config store has no work in flight worth draining: watches are ended,
  /// and their clients reconnect elsewhere or list again).
  public func run() async throws {
    do {
      try await cancelWhenGracefulShutdown {
        try await withThrowingDiscardingTaskGroup { group in
          group.addTask {
            await self.store.runExpiry(every: self.configuration.leaseExpiryInterval)
          }
          defer { group.cancelAll() }
          try await self.http.run()
        }
      }
    } catch is CancellationError {
      // Cancellation (or a graceful shutdown) is how the server is meant to stop.
    }
  }
}

/// The etcd endpoints of the served store: the HTTP server's handler.
private final class StoreEndpoints: Sendable {
  let store: MemoryConfigStore
  let configuration: ConfigStoreServer.Configuration
  private let openWatches = Atomic<Int>(0)

  init(store: MemoryConfigStore, configuration: ConfigStoreServer.Configuration) {
    self.store = store
    self.configuration = configuration
  }

  /// A watch to stream: its first line and the store's changes from `from` on.
  private struct Watch {
    var created: Data
    var changes: AsyncThrowingStream<ConfigChange, any Error>
    var from: ConfigRevision
  }

  /// Answers one request; a refusal is etcd's JSON error body with its HTTP status.
  @Sendable
  func answer(_ request: HTTPRequest) async -> HTTPResponse {
    do {
      return try await answerOrThrow(request)
    } catch let failure as RequestFailure {
      return failure.response
    } catch let error as ConfigStoreError {
      return RequestFailure(error).response
    } catch {
      return RequestFailure(.internalServerError, code: 13, "the embedded store failed: \(error)")
        .response
    }
  }

  /// Streams a watch, one JSON object per line, until the client leaves or the server stops,
  /// or until the watch cannot go on (history compacted), which ends the response.
  private func stream(_ watch: Watch) -> HTTPResponse {
    HTTPResponse(
      contentType: "application/json",
      body: .stream { writer in
        defer { self.openWatches.subtract(1, ordering: .relaxed) }
        try await writer.write(watch.created)
        do {
          for try await change in watch.changes where change.revision >= watch.from {
            try await writer.write(Self.line(change))
          }
        } catch let error as ConfigStoreError where error.code == .compacted {
          try await writer.write(self.canceledLine(error))
        }
      }
    )
  }

  // MARK: Requests

  private func answerOrThrow(_ request: HTTPRequest) async throws -> HTTPResponse {
    let path = request.path
    if request.bodyTooLarge {
      throw RequestFailure(
        .badRequest,
        code: EtcdError.Code.invalidArgument,
        "the request body is larger than \(configuration.maxRequestBodySize) bytes (maxRequestBodySize)"
      )
    }
    if request.method == .GET && path == "/health" {
      return Self.json(Data(#"{"health":"true"}"#.utf8))
    }
    guard Self.endpoints.contains(path) else {
      throw RequestFailure(
        .notFound,
        code: EtcdError.Code.unimplemented,
        "the embedded store does not serve \(path); it serves \(Self.endpoints.sorted().joined(separator: ", "))"
      )
    }
    guard request.method == .POST else {
      throw RequestFailure(
        .methodNotAllowed,
        code: EtcdError.Code.unimplemented,
        "\(path) takes POST, not \(request.method.rawValue)"
      )
    }
    try authorize(request)
    if path == "/v3/watch" { return stream(try beginWatch(request.body)) }
    return Self.json(try await unary(path, request.body))
  }

  static func json(_ body: Data, status: HTTPResponseStatus = .ok) -> HTTPResponse {
    HTTPResponse(status: status, contentType: "application/json", body)
  }

  /// The endpoints that change the store, which need the token when one is set.
  static let mutatingEndpoints: Set<String> = [
    "/v3/kv/put", "/v3/kv/deleterange", "/v3/lease/grant", "/v3/lease/keepalive",
    "/v3/lease/revoke",
  ]

  /// Refuses a mutating call without the token, and logs who tried.
  private func authorize(_ request: HTTPRequest) throws {
    guard let token = configuration.token, Self.mutatingEndpoints.contains(request.path),
      !token.isPresented(in: request)
    else { return }
    let presented = request.head.headers.first(name: "Authorization") != nil
    configuration.logger.warning(
      "refused a call without the store's token",
      metadata: [
        "peer": "\(request.peer ?? "unknown")", "path": "\(request.path)",
        "reason": "\(presented ? "wrong token" : "no Authorization header")",
      ]
    )
    throw RequestFailure(
      .unauthorized,
      code: EtcdError.Code.unauthenticated,
      "\(request.path) changes the store and needs its token in the Authorization header "
        + "(\(presented ? "the one sent is wrong" : "none was sent")); pass --token or set SKEIN_TOKEN"
    )
  }

  private static let endpoints: Set<String> = [
    "/v3/kv/range", "/v3/kv/put", "/v3/kv/deleterange", "/v3/lease/grant",
    "/v3/lease/keepalive", "/v3/lease/revoke", "/v3/watch", "/health",
  ]

  private func unary(_ path: String, _ body: Data) async throws -> Data {
    switch path {
    case "/v3/kv/range":
      let request = try Self.decode(EtcdKeyRange.self, body, path)
      return try Self.encode(try await range(request))
    case "/v3/kv/put":
      let request = try Self.decode(EtcdPutRequest.self, body, path)
      let revision = try await store.put(
        try Self.text(request.key, "key"),
        try Self.text(request.value, "value"),
        lease: request.lease.flatMap { $0.value == 0 ? nil : LeaseID($0.value) }
      )
      return try Self.encode(EtcdHeaderOnly(header: EtcdHeader(revision: revision)))
    case "/v3/kv/deleterange":
      let request = try Self.decode(EtcdKeyRange.self, body, path)
      guard (request.rangeEnd ?? "").isEmpty else {
        throw RequestFailure(
          .badRequest,
          code: EtcdError.Code.unimplemented,
          "the embedded store deletes one key at a time; range_end is not supported"
        )
      }
      let deleted = try await store.delete(try Self.text(request.key, "key"))
      return try Self.encode(
        EtcdDeleteRangeResponse(
          header: EtcdHeader(revision: store.revisions.current),
          deleted: deleted ? EtcdInt64(1) : nil
        )
      )
    case "/v3/lease/grant":
      let request = try Self.decode(EtcdLeaseGrantRequest.self, body, path)
      let ttl = request.ttl?.value ?? 0
      let lease = try await store.grantLease(ttl: .seconds(ttl))
      return try Self.encode(
        EtcdLeaseGrantResponse(
          header: EtcdHeader(revision: store.revisions.current),
          id: EtcdInt64(lease.rawValue),
          ttl: EtcdInt64(ttl)
        )
      )
    case "/v3/lease/keepalive":
      let request = try Self.decode(EtcdLeaseIDRequest.self, body, path)
      let lease = LeaseID(request.id?.value ?? 0)
      // Like etcd: a lease that is gone is answered with no TTL, not with an error.
      let ttl = try? store.renewLease(lease)
      let result = EtcdLeaseGrantResponse(
        header: EtcdHeader(revision: store.revisions.current),
        id: EtcdInt64(lease.rawValue),
        ttl: ttl.map { EtcdInt64($0.components.seconds) }
      )
      return try Self.encode(EtcdKeepAliveLine(result: result)) + Data("\n".utf8)
    case "/v3/lease/revoke":
      let request = try Self.decode(EtcdLeaseIDRequest.self, body, path)
      try await store.revokeLease(LeaseID(request.id?.value ?? 0))
      return try Self.encode(
        EtcdHeaderOnly(header: EtcdHeader(revision: store.revisions.current))
      )
    default:
      throw RequestFailure(.notFound, code: EtcdError.Code.unimplemented, "no endpoint \(path)")
    }
  }

  /// etcd's range over [key, range_end): one key without an end, every key from `key` on when
  /// the end is `\0`. Keys compare as bytes, like etcd's.
  private func range(_ request: EtcdKeyRange) async throws -> EtcdRangeResponse {
    let start = try Self.bytes(request.key, "key")
    let end = try Self.bytes(request.rangeEnd, "range_end")
    let startText = String(validating: start, as: UTF8.self)
    // Listing by the prefix the range stands for keeps the common case cheap; the byte
    // comparison below makes any range exact.
    let prefix: String
    if end.isEmpty {
      prefix = startText ?? ""
    } else if let startText, end == EtcdEncoding.rangeEnd(ofPrefix: start) {
      prefix = startText
    } else {
      prefix = ""
    }
    let (entries, revision) = try await store.list(prefix: prefix)
    let selected = entries.filter { entry in
      let key = Array(entry.key.utf8)
      if end.isEmpty { return key == start }
      guard !key.lexicographicallyPrecedes(start) else { return false }
      return end == [0] || key.lexicographicallyPrecedes(end)
    }
    return EtcdRangeResponse(
      header: EtcdHeader(revision: revision),
      kvs: selected.isEmpty ? nil : selected.map(Self.keyValue),
      count: .nonZero(Int64(selected.count))
    )
  }

  private func beginWatch(_ body: Data) throws -> Watch {
    let request = try Self.decode(EtcdWatchRequest.self, body, "/v3/watch")
    guard let create = request.createRequest else {
      throw RequestFailure(
        .badRequest,
        code: EtcdError.Code.invalidArgument,
        "a watch request needs create_request; the embedded store serves one watch per request"
      )
    }
    let start = try Self.bytes(create.key, "key")
    let end = try Self.bytes(create.rangeEnd, "range_end")
    guard let prefix = String(validating: start, as: UTF8.self),
      end == EtcdEncoding.rangeEnd(ofPrefix: start) || (end == [0] && start == [0])
    else {
      throw RequestFailure(
        .badRequest,
        code: EtcdError.Code.unimplemented,
        "the embedded store watches prefixes: range_end must be the key with its last byte incremented"
      )
    }
    let watched = start == [0] ? "" : prefix
    guard HTTPServer.admit(counting: openWatches, limit: configuration.maxConcurrentWatches) else {
      throw RequestFailure(
        .tooManyRequests,
        code: EtcdError.Code.resourceExhausted,
        "the embedded store serves at most \(configuration.maxConcurrentWatches) watches at once"
      )
    }
    // The current revision is read before the watch starts from it, so a change racing with
    // the watch's creation is replayed rather than lost.
    let current = store.revisions.current
    let from = create.startRevision.flatMap { $0.value > 0 ? $0.value : nil } ?? current + 1
    let created = EtcdWatchLine(
      result: .init(header: EtcdHeader(revision: current), created: true)
    )
    do {
      return Watch(
        created: try Self.encode(created) + Data("\n".utf8),
        changes: store.watch(prefix: watched, after: min(from, current + 1) - 1),
        from: from
      )
    } catch {
      openWatches.subtract(1, ordering: .relaxed)
      throw error
    }
  }

  private func canceledLine(_ error: ConfigStoreError) -> Data {
    let line = EtcdWatchLine(
      result: .init(
        header: EtcdHeader(revision: store.revisions.current),
        canceled: true,
        compactRevision: EtcdInt64(max(1, store.revisions.compacted)),
        cancelReason: error.message
      )
    )
    return ((try? Self.encode(line)) ?? Data()) + Data("\n".utf8)
  }

  private static func line(_ change: ConfigChange) throws -> Data {
    let kv = EtcdKeyValue(
      key: EtcdEncoding.encode(change.key),
      value: change.kind == .put ? EtcdEncoding.encode(change.value) : nil,
      modRevision: .nonZero(change.revision)
    )
    let event = EtcdWatchEvent(type: change.kind == .delete ? "DELETE" : nil, kv: kv)
    let line = EtcdWatchLine(
      result: .init(header: EtcdHeader(revision: change.revision), events: [event])
    )
    return try encode(line) + Data("\n".utf8)
  }

  private static func keyValue(_ entry: ConfigEntry) -> EtcdKeyValue {
    EtcdKeyValue(
      key: EtcdEncoding.encode(entry.key),
      value: entry.value.isEmpty ? nil : EtcdEncoding.encode(entry.value),
      modRevision: .nonZero(entry.revision),
      lease: entry.lease.map { EtcdInt64($0.rawValue) }
    )
  }

  // MARK: Conversions

  private static func decode<T: Decodable>(_ type: T.Type, _ body: Data, _ path: String) throws
    -> T
  {
    do {
      return try JSONDecoder().decode(type, from: body.isEmpty ? Data("{}".utf8) : body)
    } catch {
      throw RequestFailure(
        .badRequest,
        code: EtcdError.Code.invalidArgument,
        "the body is not the JSON \(path) takes: \(Self.reason(error))"
      )
    }
  }

  private static func encode(_ value: some Encodable) throws -> Data {
    try EtcdEncoding.json(value)
  }

  /// A short reason for a decoding error, without Foundation's debug dump.
  private static func reason(_ error: any Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context),
      DecodingError.valueNotFound(_, let context), DecodingError.keyNotFound(_, let context):
      let field = context.codingPath.map(\.stringValue).joined(separator: ".")
      return field.isEmpty ? context.debugDescription : "\(field): \(context.debugDescription)"
    default:
      return "\(error)"
    }
  }

  private static func bytes(_ base64: String?, _ field: String) throws -> [UInt8] {
    guard let bytes = EtcdEncoding.bytes(base64) else {
      throw RequestFailure(
        .badRequest,
        code: EtcdError.Code.invalidArgument,
        "\(field) is not base64"
      )
    }
    return bytes
  }

  private static func text(_ base64: String?, _ field: String) throws -> String {
    guard let text = String(validating: try bytes(base64, field), as: UTF8.self) else {
      throw RequestFailure(
        .badRequest,
        code: EtcdError.Code.invalidArgument,
        "\(field) is not UTF-8 text; the embedded store keeps text"
      )
    }
    return text
  }
}

/// A request the server refuses, with the HTTP status and etcd's error body.
struct RequestFailure: Error {
  var status: HTTPResponseStatus
  var error: EtcdError

  init(_ status: HTTPResponseStatus, code: Int, _ message: String) {
    self.status = status
    self.error = EtcdError(code: code, message)
  }

  /// The store's own errors, as etcd's gateway would send them.
  init(_ error: ConfigStoreError) {
    switch error.code {
    case .invalidArgument:
      self.init(.badRequest, code: EtcdError.Code.invalidArgument, error.message)
    case .leaseNotFound: self.init(.notFound, code: EtcdError.Code.notFound, error.message)
    case .compacted: self.init(.badRequest, code: EtcdError.Code.outOfRange, error.message)
    case .unavailable: self.init(.serviceUnavailable, code: 14, error.message)
    case .unauthenticated:
      self.init(.unauthorized, code: EtcdError.Code.unauthenticated, error.message)
    case .permissionDenied:
      self.init(.forbidden, code: EtcdError.Code.permissionDenied, error.message)
    }
  }

  var response: HTTPResponse {
    let body = (try? EtcdEncoding.json(error)) ?? Data(#"{"error":"unencodable"}"#.utf8)
    return StoreEndpoints.json(body, status: status)
  }
}
