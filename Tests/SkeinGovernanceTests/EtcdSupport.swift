import AsyncHTTPClient
import Foundation
import NIOCore
import SkeinGovernance
import SkeinTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension IntegrationPeer {
  /// etcd (Debian's etcd-server), started by the tests on loopback.
  static let etcd = IntegrationPeer(name: "etcd (etcd-server)", needs: [("etcd", [], nil)])
}

/// A port on 127.0.0.1 that nothing listened on a moment ago: the kernel picks it, so tests
/// running side by side do not collide the way fixed ports would.
func freeLoopbackPort() throws -> Int {
  let fd = try tcpSocket()
  defer { close(fd) }
  var address = loopbackAddress(port: 0)
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
  }
  guard bound == 0 else { throw IntegrationError(message: "bind() failed: \(errno)") }
  let named = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  guard named == 0 else { throw IntegrationError(message: "getsockname() failed: \(errno)") }
  return Int(UInt16(bigEndian: address.sin_port))
}

/// A new TCP socket.
func tcpSocket() throws -> Int32 {
  #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
  #endif
  guard fd >= 0 else { throw IntegrationError(message: "socket() failed: \(errno)") }
  return fd
}

/// 127.0.0.1:`port` as the socket calls take it.
func loopbackAddress(port: Int) -> sockaddr_in {
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = UInt16(port).bigEndian
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  return address
}

/// One etcd node for a test, on free loopback ports with a data directory of its own; killed
/// and its directory removed when the test drops it (or calls ``stop()``).
final class EtcdServer: Sendable {
  let clientPort: Int
  let peerPort: Int
  let directory: URL
  private let executable: String
  /// Flags added to etcd's command line (`--auth-token-ttl 1`, say).
  private let extraArguments: [String]
  /// `http`, or `https` for an etcd serving clients over TLS (its certificates among the
  /// extra arguments).
  let scheme: String
  private let process = Mutex<RunningProcess?>(nil)

  /// The client URL for ``EtcdConfigStore``.
  var endpoint: String { "\(scheme)://127.0.0.1:\(clientPort)" }

  private init(executable: String, extraArguments: [String], scheme: String) throws {
    self.executable = executable
    self.extraArguments = extraArguments
    self.scheme = scheme
    clientPort = try freeLoopbackPort()
    peerPort = try freeLoopbackPort()
    directory = FileManager.default.temporaryDirectory.appending(
      path: "skein-etcd-\(UUID().uuidString)"
    )
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  deinit {
    // SIGKILL, not SIGTERM: nothing waits here, and the directory goes right after.
    process.withLock { $0?.signal(SIGKILL) }
    try? FileManager.default.removeItem(at: directory)
  }

  /// Starts etcd, with `extraArguments` added to its command line, and waits until it answers
  /// `/health`.
  static func start(extraArguments: [String] = [], scheme: String = "http") async throws
    -> EtcdServer
  {
    let executable = try IntegrationPeer.etcd.executable("etcd")
    var attempt = 1
    while true {
      let server = try EtcdServer(
        executable: executable,
        extraArguments: extraArguments,
        scheme: scheme
      )
      do {
        try await server.launch()
        return server
      } catch {
        await server.stop()
        // Another test may have taken a port between choosing it and etcd binding it.
        guard attempt < 3 else { throw error }
        attempt += 1
      }
    }
  }

  /// Stops etcd (SIGTERM, then SIGKILL) and starts it again on the same ports and data.
  func restart() async throws {
    await halt()
    try await launch()
  }

  /// Stops etcd and removes its data directory.
  func stop() async {
    await halt()
    try? FileManager.default.removeItem(at: directory)
  }

  /// Starts etcd on its ports and data (after ``halt()``) and waits until it answers.
  func launch() async throws {
    let client = endpoint
    let peer = "http://127.0.0.1:\(peerPort)"
    let running = try RunningProcess(
      executable,
      [
        "--name", "default",
        "--data-dir", directory.appending(path: "data").path,
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "default=\(peer)",
      ] + extraArguments
    )
    process.withLock { $0 = running }
    _ = try await running.waitForLine(containing: "ready to serve client requests")
    // Over TLS the tests' own client would need the certificates: the line above is enough.
    if scheme == "http" { try await waitForHealth(running) }
  }

  private func waitForHealth(_ running: RunningProcess) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
      let request = HTTPClientRequest(url: endpoint + "/health")
      if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)),
        let body = try? await response.body.collect(upTo: 4096),
        String(buffer: body).contains(#""health":"true""#)
      {
        return
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    throw IntegrationError(
      message: "etcd on \(endpoint) did not become healthy:\n\(running.printed)"
    )
  }

  /// Stops etcd (SIGTERM, then SIGKILL), keeping its data: an outage ``launch()`` ends.
  func halt() async {
    guard let running = process.withLock({ $0 }) else { return }
    running.signal(SIGTERM)
    if (try? await running.waitForExit(timeout: .seconds(10))) == nil {
      running.signal(SIGKILL)
      _ = try? await running.waitForExit(timeout: .seconds(10))
    }
    process.withLock { $0 = nil }
  }
}

/// A networked store together with the server it talks to (an etcd, an embedded store served
/// over loopback), so the server lives exactly as long as the test holds the store (the
/// contract's `make()` has no teardown of its own).
final class HostedStore<Server: Sendable>: ConfigStore {
  let server: Server
  let store: EtcdConfigStore

  init(server: Server, endpoint: String) {
    self.server = server
    self.store = EtcdConfigStore(endpoint: endpoint)
  }

  func get(_ key: String) async throws -> ConfigEntry? { try await store.get(key) }

  @discardableResult
  func put(_ key: String, _ value: String, lease: LeaseID?) async throws -> ConfigRevision {
    try await store.put(key, value, lease: lease)
  }

  @discardableResult
  func delete(_ key: String) async throws -> Bool { try await store.delete(key) }

  func list(prefix: String) async throws -> (entries: [ConfigEntry], revision: ConfigRevision) {
    try await store.list(prefix: prefix)
  }

  func watch(prefix: String, after revision: ConfigRevision?) -> AsyncThrowingStream<
    ConfigChange, any Error
  > {
    store.watch(prefix: prefix, after: revision)
  }

  func grantLease(ttl: Duration) async throws -> LeaseID { try await store.grantLease(ttl: ttl) }

  func keepAlive(_ lease: LeaseID) async throws { try await store.keepAlive(lease) }

  func revokeLease(_ lease: LeaseID) async throws { try await store.revokeLease(lease) }
}

extension StoreUnderTest {
  /// etcd, one server per test. Leases expire on etcd's clock, so making time pass is
  /// sleeping: `d` plus half a second, etcd's interval for revoking expired leases. More
  /// slack would break the contract's "kept alive, not yet due" check at 1 s of a 2 s TTL.
  static let etcd = StoreUnderTest(name: "etcd") {
    let server = try await EtcdServer.start()
    let store = HostedStore(server: server, endpoint: server.endpoint)
    return (store, { duration in try await Task.sleep(for: duration + .milliseconds(500)) })
  }
}
