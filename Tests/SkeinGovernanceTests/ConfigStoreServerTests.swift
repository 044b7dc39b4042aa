import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkeinGovernance
import SkeinRPC
import SkeinTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An embedded store served over loopback for a test; it stops serving when the test drops it.
final class ServedMemoryStore: Sendable {
  let server: ConfigStoreServer
  private let serving: Task<Void, any Error>

  private init(server: ConfigStoreServer) {
    self.server = server
    self.serving = Task { try await server.run() }
  }

  deinit { serving.cancel() }

  /// Serves `store` on a free loopback port.
  static func start(
    _ store: MemoryConfigStore = MemoryConfigStore(),
    configuration: ConfigStoreServer.Configuration = .init()
  ) async throws -> ServedMemoryStore {
    ServedMemoryStore(
      server: try await ConfigStoreServer.bind(store: store, configuration: configuration)
    )
  }

  /// The HTTP endpoint for ``EtcdConfigStore``.
  var endpoint: String { server.url.endpoint }
}

extension StoreUnderTest {
  /// The memory store served over loopback, through the etcd client: leases expire on a
  /// manual clock the test moves, as with the in-process memory store.
  static let memoryOverLoopback = StoreUnderTest(name: "memory served over loopback") {
    let time = ManualTime()
    let memory = MemoryConfigStore(now: { time.now })
    let served = try await ServedMemoryStore.start(memory)
    let hosted = HostedStore(server: served, endpoint: served.endpoint)
    return (
      hosted,
      { duration in
        // Expiry deletes keys on the server's side, which does not wait for the client's
        // watches to be set up as the client's own writes do.
        await hosted.store.waitForWatchSetups()
        time.advance(by: duration)
        memory.expireLeases()
      }
    )
  }
}

/// What the server answered one raw request.
private struct RawAnswer {
  var status: HTTPResponseStatus
  var body: String

  /// The etcd error body's gRPC code.
  var code: Int? {
    (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["code"] as? Int
  }
}

/// Sends `body` to `path` as it is, bypassing the store client, to see how the server copes.
private func send(
  _ body: String,
  to path: String,
  on served: ServedMemoryStore,
  method: HTTPMethod = .POST
) async throws -> RawAnswer {
  var request = HTTPClientRequest(url: served.endpoint + path)
  request.method = method
  if method == .POST { request.body = .bytes(ByteBuffer(string: body)) }
  let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
  let answer = try await response.body.collect(upTo: 1 << 20)
  return RawAnswer(status: response.status, body: String(buffer: answer))
}

/// Writes `bytes` to 127.0.0.1:`port` on a plain socket and returns what comes back before the
/// server closes the connection (or a second passes): for input no HTTP client would send.
private func exchangeRaw(_ bytes: String, port: Int) throws -> String {
  let fd = try tcpSocket()
  defer { close(fd) }
  var timeout = timeval(tv_sec: 1, tv_usec: 0)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  var address = loopbackAddress(port: port)
  let connected = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard connected == 0 else { throw IntegrationError(message: "connect() failed: \(errno)") }
  _ = Array(bytes.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
  var answer: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 4096)
  while true {
    let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    guard count > 0 else { break }
    answer += chunk[..<count]
  }
  return String(decoding: answer, as: UTF8.self)
}

@Suite("Config store server")
struct ConfigStoreServerTests {
  @Test("bytes that are not HTTP get a 400 and a closed connection; the server goes on")
  func notHTTP() async throws {
    let served = try await ServedMemoryStore.start()
    let answer = try exchangeRaw(
      "GARBAGE \u{1}\u{2}\r\n\r\n",
      port: served.server.localAddress.port
    )
    #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
    let store = EtcdConfigStore(endpoint: served.endpoint)
    try await store.put("/after/garbage", "fine")
    #expect(try await store.get("/after/garbage")?.value == "fine")
    try await store.shutdown()
  }

  @Test("bad requests get an etcd-style JSON error and the server goes on serving")
  func badRequests() async throws {
    let served = try await ServedMemoryStore.start(
      configuration: .init(maxRequestBodySize: 1024)
    )
    let notJSON = try await send("not json", to: "/v3/kv/put", on: served)
    #expect(notJSON.status == .badRequest)
    #expect(notJSON.code == 3)
    #expect(notJSON.body.contains("not the JSON /v3/kv/put takes"), "\(notJSON.body)")

    let oversized = try await send(
      #"{"key":"\#(String(repeating: "A", count: 4096))"}"#,
      to: "/v3/kv/put",
      on: served
    )
    #expect(oversized.status == .badRequest)
    #expect(oversized.body.contains("larger than 1024 bytes"), "\(oversized.body)")

    let wrongType = try await send(#"{"key":"a2V5","lease":"soon"}"#, to: "/v3/kv/put", on: served)
    #expect(wrongType.status == .badRequest)
    #expect(wrongType.body.contains("lease"), "\(wrongType.body)")

    let notBase64 = try await send(#"{"key":"%%%"}"#, to: "/v3/kv/range", on: served)
    #expect(notBase64.status == .badRequest)
    #expect(notBase64.body.contains("key is not base64"))

    let emptyKey = try await send(#"{"value":"eA=="}"#, to: "/v3/kv/put", on: served)
    #expect(emptyKey.status == .badRequest)
    #expect(emptyKey.code == 3)

    let unknown = try await send("{}", to: "/v3/kv/txn", on: served)
    #expect(unknown.status == .notFound)
    #expect(unknown.body.contains("does not serve /v3/kv/txn"))

    let wrongMethod = try await send("", to: "/v3/kv/put", on: served, method: .GET)
    #expect(wrongMethod.status == .methodNotAllowed)

    let noWatch = try await send("{}", to: "/v3/watch", on: served)
    #expect(noWatch.status == .badRequest)
    #expect(noWatch.body.contains("create_request"))

    let health = try await send("", to: "/health", on: served, method: .GET)
    #expect(health.body == #"{"health":"true"}"#)

    // Still serving, through the real client.
    let store = EtcdConfigStore(endpoint: served.endpoint)
    try await store.put("/after/bad", "fine")
    #expect(try await store.get("/after/bad")?.value == "fine")
    try await store.shutdown()
  }

  @Test("a watch beyond the limit is refused with 429; the first goes on")
  func watchLimit() async throws {
    let served = try await ServedMemoryStore.start(configuration: .init(maxConcurrentWatches: 1))
    let store = EtcdConfigStore(endpoint: served.endpoint)
    let stream = store.watch(prefix: "/limit/", after: nil)
    // The put waits until the watch is set up, so the one watch slot is taken by then.
    try await store.put("/limit/a", "1")
    let refused = try await send(
      #"{"create_request":{"key":"L3gv","range_end":"L3gw"}}"#,
      to: "/v3/watch",
      on: served
    )
    #expect(refused.status == .tooManyRequests)
    #expect(refused.code == 8)
    #expect(try await collect(stream, count: 1).map(\.key) == ["/limit/a"])
    try await store.shutdown()
  }

  @Test("the server expires leases while it serves")
  func expiresLeases() async throws {
    let served = try await ServedMemoryStore.start(
      configuration: .init(leaseExpiryInterval: .milliseconds(20))
    )
    let store = EtcdConfigStore(endpoint: served.endpoint)
    let lease = try await store.grantLease(ttl: .seconds(1))
    try await store.put("/lease/k", "v", lease: lease)
    let deadline = ContinuousClock.now + .seconds(5)
    while try await store.get("/lease/k") != nil, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(try await store.get("/lease/k") == nil)
    try await store.shutdown()
  }

  @Test("registry URLs: etcd:// and memory:// with host:port, a clear error otherwise")
  func urls() throws {
    let memory = try ConfigStoreURL(parsing: "memory://127.0.0.1:2380")
    #expect(memory.kind == .memory)
    #expect(memory.endpoint == "http://127.0.0.1:2380")
    #expect(try ConfigStoreURL(parsing: "etcd://[::1]:2379").description == "etcd://[::1]:2379")
    for bad in ["redis://127.0.0.1:1", "127.0.0.1:2379", "etcd://127.0.0.1", "memory://:80"] {
      let error = #expect(throws: ConfigStoreError.self) { try ConfigStoreURL(parsing: bad) }
      #expect(error?.code == .invalidArgument)
      #expect(error?.message.contains("etcd://HOST:PORT or memory://HOST:PORT") == true)
    }
  }
}
