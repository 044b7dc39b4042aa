import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkeinGovernance
import SkeinTestSupport
import Synchronization
import Testing

/// Changes a watch delivered, appended by the reading task and read by the test.
private final class Received: Sendable {
  let changes = Mutex<[ConfigChange]>([])
}

/// Reads `stream` for `duration` (or until it ends) and returns what arrived, in order.
private func changes(
  from stream: AsyncThrowingStream<ConfigChange, any Error>,
  until done: @escaping @Sendable ([ConfigChange]) -> Bool,
  within duration: Duration
) async throws -> [ConfigChange] {
  let received = Received()
  try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask {
      for try await change in stream {
        let all = received.changes.withLock { changes in
          changes.append(change)
          return changes
        }
        if done(all) { return }
      }
    }
    group.addTask { try await Task.sleep(for: duration) }
    try await group.next()
    group.cancelAll()
  }
  return received.changes.withLock { $0 }
}

@Suite(
  "etcd config store",
  .enabled(if: IntegrationPeer.etcd.shouldRun, Comment(rawValue: IntegrationPeer.etcd.skipReason))
)
struct EtcdConfigStoreTests {
  @Test("a watch survives an etcd restart: nothing lost, nothing repeated")
  func watchAcrossRestart() async throws {
    let server = try await EtcdServer.start()
    let store = EtcdConfigStore(endpoint: server.endpoint)
    let stream = store.watch(prefix: "/restart/", after: nil)
    try await store.put("/restart/k1", "one")
    try await server.restart()
    // The store's pooled connection died with the old process; the first request after the
    // restart may find out the hard way.
    var attempts = 0
    while true {
      do {
        try await store.put("/restart/k2", "two")
        break
      } catch let error as ConfigStoreError where error.code == .unavailable && attempts < 20 {
        attempts += 1
        try await Task.sleep(for: .milliseconds(100))
      }
    }
    // Wait for both, then a little longer so a repeated change would show.
    let seen = try await changes(from: stream, until: { $0.count > 2 }, within: .seconds(5))
    #expect(seen.map(\.key) == ["/restart/k1", "/restart/k2"])
    #expect(seen.map(\.value) == ["one", "two"])
    #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.revision < $1.revision })
    try await store.shutdown()
    await server.stop()
  }

  @Test("a key under a lease nobody keeps alive disappears within TTL + 2 s")
  func leaseLapses() async throws {
    let server = try await EtcdServer.start()
    let store = EtcdConfigStore(endpoint: server.endpoint)
    let lease = try await store.grantLease(ttl: .seconds(2))
    try await store.put("/lapse/instance", "127.0.0.1:9000", lease: lease)
    #expect(try await store.get("/lapse/instance")?.lease == lease)
    let start = ContinuousClock.now
    while try await store.get("/lapse/instance") != nil,
      ContinuousClock.now - start < .seconds(6)
    {
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(try await store.get("/lapse/instance") == nil)
    #expect(ContinuousClock.now - start <= .seconds(4))
    let error = await #expect(throws: ConfigStoreError.self) { try await store.keepAlive(lease) }
    #expect(error?.code == .leaseNotFound)
    try await store.shutdown()
    await server.stop()
  }

  @Test("a watch from before etcd's compacted history fails as compacted")
  func compacted() async throws {
    let server = try await EtcdServer.start()
    let store = EtcdConfigStore(endpoint: server.endpoint)
    var last: ConfigRevision = 0
    for i in 1...4 { last = try await store.put("/c/\(i)", "\(i)") }
    var request = HTTPClientRequest(url: server.endpoint + "/v3/kv/compaction")
    request.method = .POST
    request.body = .bytes(ByteBuffer(string: #"{"revision":"\#(last)"}"#))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    #expect(response.status == .ok)
    let failure = try await watchFailure(store.watch(prefix: "/c/", after: 1))
    #expect(failure?.code == .compacted)
    try await store.shutdown()
    await server.stop()
  }

  @Test("shutting the store down ends its watches")
  func shutdownEndsWatches() async throws {
    let server = try await EtcdServer.start()
    let store = EtcdConfigStore(endpoint: server.endpoint)
    let stream = store.watch(prefix: "/down/", after: nil)
    try await store.put("/down/a", "1")
    let ended = Task {
      var count = 0
      for try await _ in stream { count += 1 }
      return count
    }
    try await Task.sleep(for: .milliseconds(200))
    try await store.shutdown()
    let outcome = try await withThrowingTaskGroup(of: Int?.self) { group in
      group.addTask { try await ended.value }
      group.addTask {
        try await Task.sleep(for: .seconds(5))
        return nil
      }
      let first = try await group.next() ?? nil
      group.cancelAll()
      ended.cancel()
      return first
    }
    #expect(outcome == 1, "the watch delivered its one change, then ended")
    await server.stop()
  }
}

/// Needs no etcd: it talks to a port nothing listens on.
@Suite("etcd config store without etcd")
struct EtcdConfigStoreUnreachableTests {
  @Test("an etcd that is not there is unavailable, and the error names the endpoint")
  func unreachable() async throws {
    let endpoint = "http://127.0.0.1:\(try freeLoopbackPort())"
    let store = EtcdConfigStore(endpoint: endpoint, requestTimeout: .milliseconds(500))
    let error = await #expect(throws: ConfigStoreError.self) { try await store.get("/x") }
    #expect(error?.code == .unavailable)
    #expect(error?.message.contains(endpoint) == true)
    try await store.shutdown()
  }
}
