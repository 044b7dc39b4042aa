import SkeinGovernance
import SkeinTestSupport
import Synchronization
import Testing

/// A clock the test moves by hand, so lease expiry is tested without sleeping.
final class ManualTime: Sendable {
  private let instant = Mutex(ContinuousClock.now)
  var now: ContinuousClock.Instant { instant.withLock { $0 } }
  func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

/// A store under test, with what the contract needs to make time pass for its leases.
struct StoreUnderTest: Sendable, CustomTestStringConvertible {
  let name: String
  let make:
    @Sendable () async throws -> (
      store: any ConfigStore, expireAfter: @Sendable (Duration) async throws -> Void
    )

  var testDescription: String { name }

  /// Every store the contract runs against: etcd only where it is installed, or where its
  /// absence must fail (SKEIN_REQUIRE_INTEGRATION=1); `EtcdConfigStoreTests` prints why not.
  static let all: [StoreUnderTest] =
    [memory, memoryOverLoopback] + (IntegrationPeer.etcd.shouldRun ? [etcd] : [])

  static let memory = StoreUnderTest(name: "memory") {
    let time = ManualTime()
    let store = MemoryConfigStore(now: { time.now })
    return (
      store,
      { duration in
        time.advance(by: duration)
        store.expireLeases()
      }
    )
  }
}

/// Takes changes from a watch until `count` arrived (or a second passed).
func collect(
  _ stream: AsyncThrowingStream<ConfigChange, any Error>,
  count: Int
) async throws -> [ConfigChange] {
  try await withThrowingTaskGroup(of: [ConfigChange].self) { group in
    group.addTask {
      var changes: [ConfigChange] = []
      for try await change in stream {
        changes.append(change)
        if changes.count == count { break }
      }
      return changes
    }
    group.addTask {
      try await Task.sleep(for: .seconds(1))
      return []
    }
    let first = try await group.next() ?? []
    group.cancelAll()
    return first
  }
}

/// The store error a watch ended with, or `nil` when it ended without one.
func watchFailure(
  _ stream: AsyncThrowingStream<ConfigChange, any Error>
) async throws -> ConfigStoreError? {
  do {
    for try await _ in stream {}
  } catch let error as ConfigStoreError {
    return error
  }
  return nil
}

@Suite("Config store contract")
struct ConfigStoreContractTests {
  @Test(
    "put, get, list by prefix in key order, delete; revisions only grow",
    arguments: StoreUnderTest.all
  )
  func basics(_ subject: StoreUnderTest) async throws {
    let (store, _) = try await subject.make()
    let first = try await store.put("/t/a/2", "two")
    let second = try await store.put("/t/a/1", "one")
    try await store.put("/t/b", "other")
    #expect(second > first)
    #expect(try await store.get("/t/a/1")?.value == "one")
    #expect(try await store.get("/t/missing") == nil)
    let (entries, revision) = try await store.list(prefix: "/t/a/")
    #expect(entries.map(\.key) == ["/t/a/1", "/t/a/2"])
    #expect(revision >= second)
    #expect(try await store.delete("/t/a/1"))
    #expect(try await !store.delete("/t/a/1"))
    #expect(try await store.list(prefix: "/t/a/").entries.map(\.value) == ["two"])
    await #expect(throws: ConfigStoreError.self) { try await store.put("", "x") }
  }

  @Test(
    "a watch sees puts and deletes under its prefix, in order",
    arguments: StoreUnderTest.all
  )
  func watch(_ subject: StoreUnderTest) async throws {
    let (store, _) = try await subject.make()
    let stream = store.watch(prefix: "/w/", after: nil)
    try await store.put("/w/x", "1")
    try await store.put("/elsewhere", "ignored")
    try await store.put("/w/x", "2")
    try await store.delete("/w/x")
    let changes = try await collect(stream, count: 3)
    #expect(changes.map(\.kind) == [.put, .put, .delete])
    #expect(changes.map(\.value) == ["1", "2", ""])
    #expect(zip(changes, changes.dropFirst()).allSatisfy { $0.revision < $1.revision })
  }

  @Test("a watch resumes after a revision and misses nothing", arguments: StoreUnderTest.all)
  func resume(_ subject: StoreUnderTest) async throws {
    let (store, _) = try await subject.make()
    let listed = try await store.list(prefix: "/r/").revision
    try await store.put("/r/1", "a")
    try await store.put("/r/2", "b")
    let changes = try await collect(store.watch(prefix: "/r/", after: listed), count: 2)
    #expect(changes.map(\.key) == ["/r/1", "/r/2"])
  }

  @Test(
    "keys under a lease vanish when it lapses, and a watcher hears of it",
    arguments: StoreUnderTest.all
  )
  func leaseExpiry(_ subject: StoreUnderTest) async throws {
    let (store, expireAfter) = try await subject.make()
    let lease = try await store.grantLease(ttl: .seconds(2))
    try await store.put("/l/instance", "127.0.0.1:9000", lease: lease)
    let stream = store.watch(prefix: "/l/", after: nil)
    try await store.keepAlive(lease)
    try await expireAfter(.seconds(1))
    #expect(try await store.get("/l/instance") != nil, "kept alive, not yet due")
    try await expireAfter(.seconds(2))
    #expect(try await store.get("/l/instance") == nil)
    let changes = try await collect(stream, count: 1)
    #expect(changes.first?.kind == .delete)
    let error = await #expect(throws: ConfigStoreError.self) { try await store.keepAlive(lease) }
    #expect(error?.code == .leaseNotFound)
  }

  @Test("revoking a lease deletes its keys now", arguments: StoreUnderTest.all)
  func revoke(_ subject: StoreUnderTest) async throws {
    let (store, _) = try await subject.make()
    let lease = try await store.grantLease(ttl: .seconds(30))
    try await store.put("/v/a", "1", lease: lease)
    try await store.put("/v/b", "2")
    try await store.revokeLease(lease)
    #expect(try await store.list(prefix: "/v/").entries.map(\.key) == ["/v/b"])
    let error = await #expect(throws: ConfigStoreError.self) {
      try await store.put("/v/c", "3", lease: lease)
    }
    #expect(error?.code == .leaseNotFound)
  }
}

@Suite("Memory config store")
struct MemoryConfigStoreTests {
  @Test(
    "a watch from a revision older than the kept history fails as compacted",
    arguments: [false, true]
  )
  func compacted(servedOverLoopback: Bool) async throws {
    let memory = MemoryConfigStore(historyLimit: 2)
    var store: any ConfigStore = memory
    if servedOverLoopback {
      let served = try await ServedMemoryStore.start(memory)
      store = HostedStore(server: served, endpoint: served.endpoint)
    }
    for i in 1...5 { try await store.put("/c/\(i)", "\(i)") }
    let failure = try await watchFailure(store.watch(prefix: "/c/", after: 1))
    #expect(failure?.code == .compacted)
    // From a revision still kept, the rest is replayed.
    let changes = try await collect(store.watch(prefix: "/c/", after: 3), count: 2)
    #expect(changes.map(\.key) == ["/c/4", "/c/5"])
  }

  @Test(
    "a watch whose reader falls too far behind ends as compacted after what it holds",
    arguments: [false, true]
  )
  func fallsBehind(replaying: Bool) async throws {
    let store = MemoryConfigStore(maxPendingChangesPerWatch: 3)
    let live = store.watch(prefix: "/b/", after: nil)
    for i in 1...5 { try await store.put("/b/\(i)", "\(i)") }
    let stream = replaying ? store.watch(prefix: "/b/", after: 0) : live
    var keys: [String] = []
    var failure: ConfigStoreError?
    do {
      for try await change in stream { keys.append(change.key) }
    } catch let error as ConfigStoreError {
      failure = error
    }
    #expect(keys == ["/b/1", "/b/2", "/b/3"])
    #expect(failure?.code == .compacted)
    // The store goes on, and so does a watch that keeps up.
    let next = store.watch(prefix: "/b/", after: nil)
    try await store.put("/b/6", "6")
    #expect(try await collect(next, count: 1).map(\.key) == ["/b/6"])
  }

  @Test("a lease's TTL must be at least a second")
  func shortTTL() async {
    let error = await #expect(throws: ConfigStoreError.self) {
      _ = try await MemoryConfigStore().grantLease(ttl: .milliseconds(10))
    }
    #expect(error?.code == .invalidArgument)
  }
}
