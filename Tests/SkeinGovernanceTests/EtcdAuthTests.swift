import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkeinGovernance
import SkeinTestSupport
import Testing

/// Sets up etcd's users and roles through its JSON API (etcdctl may not be installed) and turns
/// authentication on: `root`, `writer` (read-write on `/skein/`) and `viewer` (read on
/// `/skein/`), each with the password `NAME-password`.
private func enableAuthentication(on server: EtcdServer) async throws {
  func post(_ path: String, _ body: [String: Any]) async throws {
    var request = HTTPClientRequest(url: server.endpoint + path)
    request.method = .POST
    request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    let answer = try await response.body.collect(upTo: 65536)
    guard response.status == .ok else {
      throw IntegrationError(
        message: "\(path) answered \(response.status): \(String(buffer: answer))"
      )
    }
  }
  func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
  for user in ["root", "writer", "viewer"] {
    try await post("/v3/auth/user/add", ["name": user, "password": "\(user)-password"])
  }
  try await post("/v3/auth/user/grant", ["user": "root", "role": "root"])
  for (role, permission) in [("skein-rw", "READWRITE"), ("skein-ro", "READ")] {
    try await post("/v3/auth/role/add", ["name": role])
    try await post(
      "/v3/auth/role/grant",
      [
        "name": role,
        "perm": ["permType": permission, "key": base64("/skein/"), "range_end": base64("/skein0")],
      ]
    )
  }
  try await post("/v3/auth/user/grant", ["user": "writer", "role": "skein-rw"])
  try await post("/v3/auth/user/grant", ["user": "viewer", "role": "skein-ro"])
  try await post("/v3/auth/enable", [:])
}

/// etcd's cheapest password hashing (bcrypt cost 4, not 10): every user added and every login
/// hashes, and at cost 10 these tests would take whole cores from the suites beside them.
private let cheapPasswords = ["--bcrypt-cost", "4"]

/// A client of `server` logged in as `user` with its password.
private func login(_ server: EtcdServer, as user: String) -> EtcdConfigStore {
  EtcdConfigStore(
    endpoint: server.endpoint,
    credentials: .user(name: user, password: "\(user)-password")
  )
}

/// The first change `stream` delivers, or `nil` when none came within `timeout`.
private func firstChange(
  _ stream: AsyncThrowingStream<ConfigChange, any Error>,
  within timeout: Duration = .seconds(5)
) async throws -> ConfigChange? {
  try await withThrowingTaskGroup(of: ConfigChange?.self) { group in
    group.addTask {
      var iterator = stream.makeAsyncIterator()
      return try await iterator.next()
    }
    group.addTask {
      try await Task.sleep(for: timeout)
      return nil
    }
    defer { group.cancelAll() }
    return try await group.next() ?? nil
  }
}

@Suite(
  "etcd with authentication",
  .timeLimit(.minutes(2)),
  .enabled(if: IntegrationPeer.etcd.shouldRun, Comment(rawValue: IntegrationPeer.etcd.skipReason))
)
struct EtcdAuthTests {
  @Test("a read-write user puts, gets and watches; a wrong password or none is a clear error")
  func readWriteUser() async throws {
    let server = try await EtcdServer.start(extraArguments: cheapPasswords)
    try await enableAuthentication(on: server)
    let writer = login(server, as: "writer")
    let stream = writer.watch(prefix: "/skein/governance/", after: nil)
    try await writer.put("/skein/governance/a/b/c/d/e/degrade", #"{"on":true}"#)
    #expect(try await writer.get("/skein/governance/a/b/c/d/e/degrade")?.value == #"{"on":true}"#)
    #expect(try await firstChange(stream)?.key == "/skein/governance/a/b/c/d/e/degrade")
    let lease = try await writer.grantLease(ttl: .seconds(10))
    try await writer.put("/skein/registry/x/c1/i0", "{}", lease: lease)
    try await writer.keepAlive(lease)
    try await writer.revokeLease(lease)
    #expect(try await writer.delete("/skein/governance/a/b/c/d/e/degrade"))

    let wrong = EtcdConfigStore(
      endpoint: server.endpoint,
      credentials: .user(name: "writer", password: "not-it")
    )
    let refused = await #expect(throws: ConfigStoreError.self) {
      _ = try await wrong.get("/skein/governance/x")
    }
    #expect(refused?.code == .unauthenticated)
    #expect(refused?.message.contains("refused to log in user 'writer'") == true)
    #expect(refused?.message.contains("authentication failed") == true)
    let wrongWatch = wrong.watch(prefix: "/skein/", after: nil)
    let watchRefused = await #expect(throws: ConfigStoreError.self) {
      _ = try await firstChange(wrongWatch)
    }
    #expect(watchRefused?.code == .unauthenticated)

    let anonymous = EtcdConfigStore(endpoint: server.endpoint)
    let nobody = await #expect(throws: ConfigStoreError.self) {
      try await anonymous.put("/skein/governance/x", "1")
    }
    #expect(nobody?.code == .unauthenticated)
    #expect(nobody?.message.contains("user name is empty") == true)
    for store in [writer, wrong, anonymous] { try await store.shutdown() }
  }

  @Test("a read-only user lists, gets and watches what the dashboard needs, and may not write")
  func readOnlyUser() async throws {
    let server = try await EtcdServer.start(extraArguments: cheapPasswords)
    try await enableAuthentication(on: server)
    let writer = login(server, as: "writer")
    let viewer = try ConfigStoreURL(
      parsing: "etcd://viewer:viewer-password@127.0.0.1:\(server.clientPort)"
    )
    .open()
    try await writer.put("/skein/governance/a/b/c/d/e/traffic", #"{"c1":100}"#)
    // What `skein top --read-only` does: list and follow the governance and fault prefixes.
    let (entries, revision) = try await viewer.list(prefix: "/skein/governance/")
    #expect(entries.map(\.key) == ["/skein/governance/a/b/c/d/e/traffic"])
    let stream = viewer.watch(prefix: "/skein/governance/", after: revision)
    await viewer.waitForWatchSetups()
    try await writer.put("/skein/governance/a/b/c/d/e/degrade", #"{"on":true}"#)
    #expect(try await firstChange(stream)?.key == "/skein/governance/a/b/c/d/e/degrade")
    #expect(try await viewer.get("/skein/governance/a/b/c/d/e/degrade") != nil)
    let registry = Registry(store: viewer)
    #expect(try await registry.allInstances().isEmpty)

    let refused = await #expect(throws: ConfigStoreError.self) {
      try await viewer.put("/skein/governance/a/b/c/d/e/degrade", #"{"on":false}"#)
    }
    #expect(refused?.code == .permissionDenied)
    #expect(refused?.message.contains("permission denied") == true)
    #expect(refused?.message.contains("user 'viewer'") == true)
    #expect(try await writer.get("/skein/governance/a/b/c/d/e/degrade")?.value == #"{"on":true}"#)
    // Outside its prefix the viewer may not even look.
    let outside = await #expect(throws: ConfigStoreError.self) {
      _ = try await viewer.list(prefix: "/elsewhere/")
    }
    #expect(outside?.code == .permissionDenied)
    let outsideWatch = viewer.watch(prefix: "/elsewhere/", after: nil)
    let watchRefused = await #expect(throws: ConfigStoreError.self) {
      _ = try await firstChange(outsideWatch)
    }
    #expect(watchRefused?.code == .permissionDenied)
    for store in [writer, viewer] { try await store.shutdown() }
  }

  @Test("an expired token is renewed by logging in again, for calls and watches alike")
  func expiredTokenIsRenewed() async throws {
    // Simple tokens expire after --auth-token-ttl seconds unused.
    let server = try await EtcdServer.start(
      extraArguments: cheapPasswords + ["--auth-token-ttl", "1"]
    )
    try await enableAuthentication(on: server)
    let writer = login(server, as: "writer")
    try await writer.put("/skein/k", "1")
    try await Task.sleep(for: .seconds(3))
    try await writer.put("/skein/k", "2")
    #expect(try await writer.get("/skein/k")?.value == "2")
    try await Task.sleep(for: .seconds(3))
    let stream = writer.watch(prefix: "/skein/", after: nil)
    await writer.waitForWatchSetups()
    let other = login(server, as: "writer")
    try await other.put("/skein/k", "3")
    #expect(try await firstChange(stream)?.value == "3")
    for store in [writer, other] { try await store.shutdown() }
  }

  @Test(
    "skein ctl logs in with the URL's user and $SKEIN_ETCD_PASSWORD; a viewer reads, not writes"
  )
  func controlCommandLogsIn() async throws {
    let server = try await EtcdServer.start(extraArguments: cheapPasswords)
    try await enableAuthentication(on: server)
    let skein = try skeinExecutable()
    func ctl(_ user: String, _ arguments: [String]) async throws -> ProcessResult {
      try await ProcessResult.run(
        "/usr/bin/env",
        ["SKEIN_ETCD_PASSWORD=\(user)-password", skein, "ctl"] + arguments + [
          "--registry", "etcd://\(user)@127.0.0.1:\(server.clientPort)",
        ]
      )
    }
    let degrade = ["degrade", "/gateway/*/ad/*/GetAds", "on"]
    let written = try await ctl("writer", degrade)
    #expect(written.status == 0, "\(written.errorOutput)")
    let read = try await ctl("viewer", ["get", "/skein/"])
    #expect(read.status == 0, "\(read.errorOutput)")
    #expect(read.output.contains("/skein/governance/gateway/*/ad/*/GetAds/degrade"))
    let refused = try await ctl("viewer", degrade)
    #expect(refused.status != 0)
    #expect(refused.errorOutput.contains("permission denied"), "\(refused.errorOutput)")
    #expect(refused.errorOutput.contains("user 'viewer'"))
  }
}
