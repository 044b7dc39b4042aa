import Foundation
import Logging
import SkeinGovernance
import SkeinHTTP
import SkeinRPC
import Synchronization
import Testing

/// Log records kept by a test, so it can check what a refusal logged.
final class CapturedLog: Sendable {
  let records = Mutex<[(message: String, metadata: Logger.Metadata)]>([])

  var logger: Logger {
    Logger(label: "test") { _ in CapturingHandler(log: self) }
  }

  private struct CapturingHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      log.records.withLock {
        $0.append((event.message.description, metadata.merging(event.metadata ?? [:]) { $1 }))
      }
    }
  }
}

@Suite("who may use the embedded store", .timeLimit(.minutes(1)))
struct StoreAccessTests {
  static let secret = "s3cret-token-for-tests-0123456789"

  @Test("it listens on loopback by default; another address needs the flag and a token")
  func listeningBeyondLoopback() async throws {
    let local = try await ConfigStoreServer.bind()
    #expect(local.localAddress.host == "127.0.0.1")

    let noFlag = await #expect(throws: ListenRefused.self) {
      _ = try await ConfigStoreServer.bind(configuration: .init(host: "0.0.0.0"))
    }
    #expect(noFlag?.message.contains("--allow-remote") == true)
    #expect(noFlag?.message.contains("not a loopback address") == true)

    let noToken = await #expect(throws: ListenRefused.self) {
      _ = try await ConfigStoreServer.bind(
        configuration: .init(host: "0.0.0.0", allowNonLoopback: true)
      )
    }
    #expect(noToken?.message.contains("without a token") == true)
    #expect(noToken?.message.contains("--token") == true)

    let remote = try await ConfigStoreServer.bind(
      configuration: .init(host: "0.0.0.0", allowNonLoopback: true, token: AccessToken(Self.secret))
    )
    #expect(remote.localAddress.port > 0)
  }

  @Test("with a token, changes without it are refused and logged with the peer; reads stay open")
  func mutationsNeedTheToken() async throws {
    let log = CapturedLog()
    let served = try await ServedMemoryStore.start(
      configuration: .init(token: AccessToken(Self.secret), logger: log.logger)
    )
    let anonymous = EtcdConfigStore(endpoint: served.endpoint)
    let wrong = EtcdConfigStore(
      endpoint: served.endpoint,
      credentials: .token("not-the-token-at-all-0123456789")
    )
    let owner = EtcdConfigStore(endpoint: served.endpoint, credentials: .token(Self.secret))

    try await owner.put("/skein/governance/a/b/c/d/e/degrade", #"{"on":true}"#)
    let lease = try await owner.grantLease(ttl: .seconds(10))
    try await owner.keepAlive(lease)

    for store in [anonymous, wrong] {
      let refusals: [(String, () async throws -> Void)] = [
        ("put", { try await store.put("/k", "v") }),
        ("delete", { try await store.delete("/skein/governance/a/b/c/d/e/degrade") }),
        ("grant", { _ = try await store.grantLease(ttl: .seconds(5)) }),
        ("keep-alive", { try await store.keepAlive(lease) }),
        ("revoke", { try await store.revokeLease(lease) }),
      ]
      for (name, operation) in refusals {
        let error = await #expect(throws: ConfigStoreError.self, "\(name)") {
          try await operation()
        }
        #expect(error?.code == .unauthenticated, "\(name): \(String(describing: error))")
        #expect(error?.message.contains("SKEIN_TOKEN") == true)
      }
      // Reads need no token: dashboards and `skein stats` only look.
      #expect(try await store.get("/skein/governance/a/b/c/d/e/degrade")?.value == #"{"on":true}"#)
      #expect(try await store.list(prefix: "/skein/").entries.count == 1)
    }
    let watched = anonymous.watch(prefix: "/skein/", after: nil)
    await anonymous.waitForWatchSetups()
    try await owner.put("/skein/x", "1")
    var iterator = watched.makeAsyncIterator()
    #expect(try await iterator.next()?.key == "/skein/x")

    // The store is unchanged by the refused calls, and each refusal was logged with its peer.
    #expect(try await owner.get("/skein/governance/a/b/c/d/e/degrade") != nil)
    try await owner.revokeLease(lease)
    let records = log.records.withLock { $0 }
    #expect(records.count == 10)
    #expect(records.allSatisfy { "\($0.metadata["peer"] ?? "")".hasPrefix("127.0.0.1:") })
    #expect(records.filter { "\($0.metadata["reason"] ?? "")" == "wrong token" }.count == 5)
    for store in [anonymous, wrong, owner] { try await store.shutdown() }
  }

  @Test("a token is compared whole, bare or after Bearer; short or spaced tokens are refused")
  func tokenComparison() throws {
    let token = try AccessToken(Self.secret)
    #expect(token.isPresented(authorization: Self.secret))
    #expect(token.isPresented(authorization: "Bearer \(Self.secret)"))
    #expect(token.isPresented(authorization: "bearer \(Self.secret)"))
    #expect(!token.isPresented(authorization: nil))
    #expect(!token.isPresented(authorization: ""))
    #expect(!token.isPresented(authorization: String(Self.secret.dropLast())))
    #expect(!token.isPresented(authorization: Self.secret + "x"))
    #expect(!token.isPresented(authorization: Self.secret + Self.secret))
    #expect(!token.isPresented(authorization: "Bearer "))
    #expect("\(token)".contains(Self.secret) == false)
    #expect(throws: AccessTokenError.self) { try AccessToken("short") }
    #expect(throws: AccessTokenError.self) { try AccessToken("has a space in it 0123456789") }
  }

  @Test("a URL may name an etcd user and password; its description never shows the password")
  func urlCredentials() throws {
    let url = try ConfigStoreURL(parsing: "etcd://viewer:p%40ss@10.0.0.5:2379")
    #expect(url.user == "viewer" && url.password == "p@ss")
    #expect(url.description == "etcd://viewer@10.0.0.5:2379")
    #expect(url.urlCredentials == .user(name: "viewer", password: "p@ss"))
    #expect(try ConfigStoreURL(parsing: "etcd://viewer@h:1").urlCredentials == nil)
    let memory = #expect(throws: ConfigStoreError.self) {
      try ConfigStoreURL(parsing: "memory://secret@127.0.0.1:2380")
    }
    #expect(memory?.message.contains("--token") == true)
    let bad = #expect(throws: ConfigStoreError.self) {
      try ConfigStoreURL(parsing: "etcd://viewer:hunter2@nohost")
    }
    #expect(bad?.message.contains("hunter2") == false)
  }
}
