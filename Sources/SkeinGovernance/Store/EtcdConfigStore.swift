import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkeinRPC
import Synchronization

/// The config store in etcd (3.4 or later), over etcd's v3 JSON API, so a mesh spread over
/// machines shares one set of switches and one registry.
///
/// Revisions are etcd's own, leases are etcd leases (etcd expires them on its clock), and a
/// watch is an etcd watch that reconnects by itself when etcd restarts, resuming after the last
/// revision it delivered.
///
/// With ``ConfigStoreCredentials/user(name:password:)`` it logs in to an etcd that has
/// authentication enabled (`/v3/auth/authenticate`) and sends the token etcd hands out as the
/// `Authorization` header of every call, watches included; when etcd says the token is no
/// longer good (it expired, or the users and roles changed) it logs in again once and repeats
/// the call. With ``ConfigStoreCredentials/token(_:)`` it sends that token as it is (the
/// embedded store's ``ConfigStoreServer/Configuration/token``).
///
/// Call ``shutdown()`` when done; it ends the watches and closes the HTTP client.
public final class EtcdConfigStore: ConfigStore {
  /// The etcd client URL the store talks to, like `http://127.0.0.1:2379`.
  public let endpoint: String
  /// Who the store says it is, if anyone.
  public let credentials: ConfigStoreCredentials?
  /// The login for ``credentials``' user: its token once etcd answered, until it is found
  /// stale. One login is shared by every call that needs it meanwhile (a node starts several
  /// watches and its registration at once; each login costs etcd a bcrypt hash).
  private let session = Mutex<Task<String, any Error>?>(nil)

  private let base: String
  private let requestTimeout: Duration
  private let reconnectWindow: Duration
  private let client: HTTPClient
  private let pending = PendingWatches()
  private let isShutDown = Mutex(false)

  /// The first pause before a dropped watch reconnects; it doubles up to ``maximumBackoff``.
  static let initialBackoff = Duration.milliseconds(100)
  /// The longest pause between reconnection attempts.
  static let maximumBackoff = Duration.seconds(2)

  /// Creates a store talking to the etcd at `endpoint`.
  ///
  /// - Parameters:
  ///   - endpoint: An etcd client URL, like `http://127.0.0.1:2379`.
  ///   - requestTimeout: How long one request may take before the store counts etcd as
  ///     unavailable.
  ///   - reconnectWindow: How long a watch keeps reconnecting to an etcd that does not answer
  ///     before it ends with ``ConfigStoreError/Code/unavailable``.
  ///   - credentials: A user and password to log in to etcd with, or a token to send; none by
  ///     default.
  ///   - tls: The CA and client certificate for an `https://` endpoint; the system's trust
  ///     store and no client certificate when `nil`.
  public init(
    endpoint: String,
    requestTimeout: Duration = .seconds(2),
    reconnectWindow: Duration = .seconds(60),
    credentials: ConfigStoreCredentials? = nil,
    tls: EtcdTLS? = nil
  ) {
    self.endpoint = endpoint
    self.credentials = credentials
    var base = endpoint
    while base.hasSuffix("/") { base.removeLast() }
    self.base = base
    self.requestTimeout = requestTimeout
    self.reconnectWindow = reconnectWindow
    var configuration = HTTPClient.Configuration()
    // Every watch holds a connection for as long as it runs; with the default eight per host,
    // a ninth watch would leave puts queued behind it.
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
    configuration.timeout.connect = TimeAmount(requestTimeout)
    if let tls { configuration.tlsConfiguration = tls.configuration }
    self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
  }

  deinit {
    // A store dropped without `shutdown()` must not leak its client (or trip the client's
    // debug check); shutting down keeps the client alive until it is done.
    if !isShutDown.withLock({ $0 }) { client.shutdown(queue: .global()) { _ in } }
  }

  /// Ends the store's watches and closes its HTTP client; the store cannot be used afterwards.
  public func shutdown() async throws {
    let already = isShutDown.withLock { done in
      defer { done = true }
      return done
    }
    if !already { try await client.shutdown() }
  }

  // MARK: Keys

  /// The value of `key`, or `nil`.
  public func get(_ key: String) async throws -> ConfigEntry? {
    let response: EtcdRangeResponse = try await call(
      "/v3/kv/range",
      EtcdKeyRange(key: EtcdEncoding.encode(key), rangeEnd: nil)
    )
    return try response.kvs?.first.map(Self.entry)
  }

  /// Writes `key`, under `lease` if given; returns etcd's revision of the change.
  @discardableResult
  public func put(_ key: String, _ value: String, lease: LeaseID?) async throws -> ConfigRevision {
    guard !key.isEmpty else { throw ConfigStoreError(.invalidArgument, "the key is empty") }
    await pending.waitForSetups(timeout: requestTimeout)
    let response: EtcdHeaderOnly = try await call(
      "/v3/kv/put",
      EtcdPutRequest(
        key: EtcdEncoding.encode(key),
        value: EtcdEncoding.encode(value),
        lease: lease.map { EtcdInt64($0.rawValue) }
      )
    )
    return try Self.revision(of: response.header)
  }

  /// Deletes `key`; returns whether it existed.
  @discardableResult
  public func delete(_ key: String) async throws -> Bool {
    await pending.waitForSetups(timeout: requestTimeout)
    let response: EtcdDeleteRangeResponse = try await call(
      "/v3/kv/deleterange",
      EtcdKeyRange(key: EtcdEncoding.encode(key))
    )
    return (response.deleted?.value ?? 0) > 0
  }

  /// Every key starting with `prefix`, in key order, and etcd's revision when it answered.
  public func list(prefix: String) async throws -> (
    entries: [ConfigEntry], revision: ConfigRevision
  ) {
    let (key, rangeEnd) = EtcdEncoding.range(prefix)
    let response: EtcdRangeResponse = try await call(
      "/v3/kv/range",
      EtcdKeyRange(key: key, rangeEnd: rangeEnd)
    )
    // etcd sorts by bytes; sorting again gives the same order as the memory store.
    let entries = try (response.kvs ?? []).map(Self.entry).sorted { $0.key < $1.key }
    return (entries, try Self.revision(of: response.header))
  }

  // MARK: Leases

  /// Grants a lease; `ttl` is rounded up to whole seconds, etcd's unit (etcd may grant more).
  public func grantLease(ttl: Duration) async throws -> LeaseID {
    guard ttl >= .seconds(1) else {
      throw ConfigStoreError(.invalidArgument, "a lease's TTL must be at least 1 s, not \(ttl)")
    }
    let (seconds, attoseconds) = ttl.components
    let response: EtcdLeaseGrantResponse = try await call(
      "/v3/lease/grant",
      EtcdLeaseGrantRequest(ttl: EtcdInt64(seconds + (attoseconds > 0 ? 1 : 0)))
    )
    if let error = response.error, !error.isEmpty {
      throw ConfigStoreError(.unavailable, "etcd at \(endpoint) refused a lease: \(error)")
    }
    guard let id = response.id?.value else {
      throw ConfigStoreError(.unavailable, "etcd at \(endpoint) granted a lease without an id")
    }
    return LeaseID(id)
  }

  /// Renews a lease for another TTL.
  ///
  /// - Throws: ``ConfigStoreError/Code/leaseNotFound`` when it already expired.
  public func keepAlive(_ lease: LeaseID) async throws {
    // etcd says a lease is gone by answering with no TTL rather than with an error.
    let response: EtcdKeepAliveLine = try await call(
      "/v3/lease/keepalive",
      EtcdLeaseIDRequest(id: EtcdInt64(lease.rawValue))
    )
    if let error = response.error { throw error.storeError(endpoint: endpoint) }
    guard let ttl = response.result?.ttl?.value, ttl > 0 else {
      throw ConfigStoreError(.leaseNotFound, "lease \(lease) expired or was revoked")
    }
  }

  /// Ends a lease now, deleting its keys.
  public func revokeLease(_ lease: LeaseID) async throws {
    await pending.waitForSetups(timeout: requestTimeout)
    let _: EtcdHeaderOnly = try await call(
      "/v3/lease/revoke",
      EtcdLeaseIDRequest(id: EtcdInt64(lease.rawValue))
    )
  }

  // MARK: Watches

  /// Waits (up to the request timeout) until every watch started so far is set up on the
  /// server, so a change made afterwards, by this process or any other (a lease the server
  /// expires), reaches them; this store's own writes wait for it by themselves.
  public func waitForWatchSetups() async {
    await pending.waitForSetups(timeout: requestTimeout)
  }

  /// The changes under `prefix` after `revision` (all new ones when `nil`), until the task is
  /// cancelled.
  ///
  /// When the connection drops (etcd restarted), the watch reconnects with backoff and resumes
  /// after the last revision it delivered, so no change is lost or repeated. It ends with
  /// ``ConfigStoreError/Code/compacted`` when etcd no longer has the history asked for, and
  /// with ``ConfigStoreError/Code/unavailable`` when etcd stays away longer than the
  /// reconnect window.
  public func watch(prefix: String, after revision: ConfigRevision?) -> AsyncThrowingStream<
    ConfigChange, any Error
  > {
    let (stream, continuation) = AsyncThrowingStream<ConfigChange, any Error>.makeStream()
    // Writes made after `watch` returns must reach the watch, as with the memory store, but
    // etcd only starts watching once the request arrives; writes wait until it has.
    let setup = pending.begin()
    let task = Task {
      await self.runWatch(
        prefix: prefix,
        after: revision,
        setup: setup,
        continuation: continuation
      )
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }

  private func runWatch(
    prefix: String,
    after: ConfigRevision?,
    setup: Int,
    continuation: AsyncThrowingStream<ConfigChange, any Error>.Continuation
  ) async {
    defer { pending.end(setup) }
    let (key, rangeEnd) = EtcdEncoding.range(prefix)
    // The first revision not yet delivered; `nil` until etcd says where "now" is.
    var next = after.map { $0 + 1 }
    var backoff = Backoff(initial: Self.initialBackoff, maximum: Self.maximumBackoff)
    var failingSince: ContinuousClock.Instant?
    var lastProblem = ""
    // A stale token is renewed at once, once; a login that fails then ends the watch.
    var renewedToken = false
    while true {
      do {
        try Task.checkCancellation()
        let request = try await makeRequest(
          "/v3/watch",
          EtcdWatchRequest(
            createRequest: .init(
              key: key,
              rangeEnd: rangeEnd,
              startRevision: next.map(EtcdInt64.init)
            )
          )
        )
        let response = try await client.execute(request, timeout: TimeAmount(requestTimeout))
        guard response.status == .ok else {
          let body = try await response.body.collect(upTo: Self.maximumResponse)
          throw Self.failure(status: response.status, body: body, endpoint: endpoint)
        }
        var lines = LineSplitter()
        let decoder = JSONDecoder()
        for try await chunk in response.body {
          lines.append(chunk)
          while let line = lines.next() {
            let message = try decoder.decode(EtcdWatchLine.self, from: line)
            if let error = message.error { throw error.storeError(endpoint: endpoint) }
            guard let result = message.result else { continue }
            if result.created == true {
              // etcd confirms a watch it refused too (created and cancelled at once).
              if result.canceled != true { renewedToken = false }
              if next == nil { next = try Self.revision(of: result.header) + 1 }
              pending.end(setup)
              backoff.reset()
              failingSince = nil
            }
            if result.canceled == true {
              if let compacted = result.compactRevision?.value, compacted > 0 {
                throw ConfigStoreError(
                  .compacted,
                  "etcd at \(endpoint) compacted its history to revision \(compacted); list again"
                )
              }
              let reason = result.cancelReason ?? "no reason given"
              let code: ConfigStoreError.Code =
                EtcdError.isAuthenticationFailure(reason)
                ? .unauthenticated
                : reason.contains("permission denied") ? .permissionDenied : .unavailable
              throw ConfigStoreError(code, "etcd at \(endpoint) cancelled the watch: \(reason)")
            }
            for event in result.events ?? [] {
              let change = try Self.change(event)
              // A reconnection starts at `next`; anything older was already delivered.
              if let next, change.revision < next { continue }
              continuation.yield(change)
              // Events of one revision (a revoked lease's keys) arrive together, so the watch
              // resumes only after the whole revision.
              next = max(next ?? 0, change.revision + 1)
            }
          }
        }
        lastProblem = "etcd at \(endpoint) closed the watch"
      } catch let error as ConfigStoreError
        where error.code == .unauthenticated && isUserLogin && !renewedToken
      {
        renewedToken = true
        session.withLock { $0 = nil }
        continue
      } catch let error as ConfigStoreError where error.code != .unavailable {
        continuation.finish(throwing: error)
        return
      } catch {
        // `shutdown()` fails the running request; reconnecting to a closed client is useless.
        if Task.isCancelled || error is CancellationError || isShutDown.withLock({ $0 }) {
          continuation.finish()
          return
        }
        lastProblem = "\(error)"
      }
      // Before the first answer, a write must not wait for a watch that cannot be set up.
      pending.end(setup)
      let now = ContinuousClock.now
      let since = failingSince ?? now
      failingSince = since
      if now - since > reconnectWindow {
        continuation.finish(
          throwing: ConfigStoreError(
            .unavailable,
            "etcd at \(endpoint) did not answer for \(reconnectWindow): \(lastProblem)"
          )
        )
        return
      }
      do {
        try await Task.sleep(for: backoff.next())
      } catch {
        continuation.finish()
        return
      }
    }
  }

  // MARK: Requests

  /// The most a unary response may hold; etcd's own default request limit is 1.5 MiB.
  private static let maximumResponse = 64 * 1024 * 1024

  private func makeRequest(_ path: String, _ body: some Encodable, authorized: Bool = true)
    async throws -> HTTPClientRequest
  {
    var request = HTTPClientRequest(url: base + path)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    if authorized, let token = try await authorization() {
      request.headers.add(name: "Authorization", value: token)
    }
    request.body = .bytes(ByteBuffer(bytes: try EtcdEncoding.json(body)))
    return request
  }

  private var isUserLogin: Bool {
    if case .user = credentials { return true }
    return false
  }

  /// The `Authorization` value for the next call: the given token, or the one etcd gave the
  /// user (logging in first when there is none yet).
  private func authorization() async throws -> String? {
    switch credentials {
    case nil: return nil
    case .token(let token): return token
    case .user(let name, let password):
      let login = session.withLock { session in
        if let session { return session }
        // Unstructured, since it outlives whichever call started it; every caller awaits it,
        // and it ends with its one request.
        let login = Task { try await self.logIn(name: name, password: password) }
        session = login
        return login
      }
      do {
        return try await login.value
      } catch {
        // A failed login is not kept: the next call tries again.
        session.withLock { if $0 == login { $0 = nil } }
        throw error
      }
    }
  }

  /// `/v3/auth/authenticate`: trades the user's password for a token.
  ///
  /// - Throws: ``ConfigStoreError/Code/unauthenticated`` naming the user when etcd refuses.
  private func logIn(name: String, password: String) async throws -> String {
    let response: EtcdAuthenticateResponse
    do {
      response = try await send(
        "/v3/auth/authenticate",
        EtcdAuthenticateRequest(name: name, password: password),
        authorized: false
      )
    } catch let error as ConfigStoreError where error.code != .unavailable {
      let reason = error.message.replacingOccurrences(of: "etcd at \(endpoint): ", with: "")
      throw ConfigStoreError(
        .unauthenticated,
        "etcd at \(endpoint) refused to log in user '\(name)': \(reason)"
      )
    } catch let error as ConfigStoreError where error.message.contains("not enabled") {
      throw ConfigStoreError(
        .unauthenticated,
        "etcd at \(endpoint) has authentication turned off; drop --etcd-user, or enable it"
      )
    }
    guard let token = response.token, !token.isEmpty else {
      throw ConfigStoreError(
        .unauthenticated,
        "etcd at \(endpoint) logged in user '\(name)' without giving a token"
      )
    }
    return token
  }

  /// POSTs `body` to `path` and decodes the answer, turning etcd's errors and transport
  /// failures into ``ConfigStoreError``. A call refused because the user's token went stale
  /// is repeated once with a new token.
  private func call<Response: Decodable>(_ path: String, _ body: some Encodable) async throws
    -> Response
  {
    do {
      do {
        return try await send(path, body)
      } catch let error as ConfigStoreError where error.code == .unauthenticated && isUserLogin {
        session.withLock { $0 = nil }
        return try await send(path, body)
      }
    } catch let error as ConfigStoreError where error.code == .permissionDenied {
      let who = credentials.map { " as \($0)" } ?? ""
      throw ConfigStoreError(
        .permissionDenied,
        "\(error.message) (\(path)\(who): the user's roles do not allow it)"
      )
    }
  }

  private func send<Response: Decodable>(
    _ path: String,
    _ body: some Encodable,
    authorized: Bool = true
  ) async throws -> Response {
    let request = try await makeRequest(path, body, authorized: authorized)
    let bytes: ByteBuffer
    let status: HTTPResponseStatus
    do {
      let response = try await client.execute(request, timeout: TimeAmount(requestTimeout))
      status = response.status
      bytes = try await response.body.collect(upTo: Self.maximumResponse)
    } catch {
      // The client reports a cancelled task as its own error; callers expect the standard one.
      if error is CancellationError || Task.isCancelled { throw CancellationError() }
      throw ConfigStoreError(.unavailable, "etcd at \(endpoint) is unreachable: \(error)")
    }
    guard status == .ok else { throw Self.failure(status: status, body: bytes, endpoint: endpoint) }
    do {
      return try JSONDecoder().decode(Response.self, from: Data(bytes.readableBytesView))
    } catch {
      throw ConfigStoreError(
        .unavailable,
        "etcd at \(endpoint) answered \(path) with something unexpected: \(error)"
      )
    }
  }

  private static func failure(status: HTTPResponseStatus, body: ByteBuffer, endpoint: String)
    -> ConfigStoreError
  {
    if let error = try? JSONDecoder().decode(EtcdError.self, from: Data(body.readableBytesView)),
      error.code != nil || error.message != nil || error.error != nil
    {
      return error.storeError(endpoint: endpoint)
    }
    return ConfigStoreError(
      .unavailable,
      "etcd at \(endpoint) answered \(status.code): \(String(buffer: body))"
    )
  }

  // MARK: Conversions

  private static func decode(_ base64: String?) throws -> String {
    guard let base64 else { return "" }
    guard let data = Data(base64Encoded: base64) else {
      throw ConfigStoreError(.unavailable, "etcd sent bytes that are not base64: \(base64)")
    }
    return String(decoding: data, as: UTF8.self)
  }

  private static func revision(of header: EtcdHeader?) throws -> ConfigRevision {
    // A revision of zero is left out of etcd's JSON, like every zero value.
    header?.revision?.value ?? 0
  }

  private static func entry(_ kv: EtcdKeyValue) throws -> ConfigEntry {
    let lease = kv.lease?.value ?? 0
    return ConfigEntry(
      key: try decode(kv.key),
      value: try decode(kv.value),
      revision: kv.modRevision?.value ?? 0,
      lease: lease == 0 ? nil : LeaseID(lease)
    )
  }

  private static func change(_ event: EtcdWatchEvent) throws -> ConfigChange {
    let isDelete = event.type == "DELETE"
    return ConfigChange(
      kind: isDelete ? .delete : .put,
      key: try decode(event.kv?.key),
      value: isDelete ? "" : try decode(event.kv?.value),
      revision: event.kv?.modRevision?.value ?? 0
    )
  }
}

// MARK: - Watch setup

/// Watches whose request etcd has not yet confirmed; writes wait for them (briefly), so a
/// write made after `watch(…)` returned is seen by that watch.
private final class PendingWatches: Sendable {
  private struct State {
    var nextID = 0
    var open: Set<Int> = []
  }

  private let state = Mutex(State())

  func begin() -> Int {
    state.withLock { state in
      defer { state.nextID += 1 }
      state.open.insert(state.nextID)
      return state.nextID
    }
  }

  func end(_ id: Int) { _ = state.withLock { $0.open.remove(id) } }

  /// Waits until the watches pending now are set up, or `timeout` passed: a write must not
  /// hang on a watch that cannot reach etcd (the write will fail on its own then).
  func waitForSetups(timeout: Duration) async {
    let waitingFor = state.withLock { $0.open }
    guard !waitingFor.isEmpty else { return }
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if state.withLock({ $0.open.isDisjoint(with: waitingFor) }) { return }
      do { try await Task.sleep(for: .milliseconds(5)) } catch { return }
    }
  }
}

/// Splits a streamed body into lines: etcd's gateway writes one JSON object per line, and
/// a line can span chunks.
private struct LineSplitter {
  private var buffer: [UInt8] = []

  mutating func append(_ chunk: ByteBuffer) { buffer.append(contentsOf: chunk.readableBytesView) }

  mutating func next() -> Data? {
    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
      let line = Data(buffer[..<newline])
      buffer.removeSubrange(...newline)
      if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return line }
    }
    return nil
  }
}

extension TimeAmount {
  fileprivate init(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }
}
