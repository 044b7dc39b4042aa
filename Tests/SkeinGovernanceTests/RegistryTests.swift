import Foundation
import SkeinGovernance
import SkeinRPC
import SkeinTestSupport
import Testing

@Suite("Registry")
struct RegistryTests {
  func instance(_ port: Int, cluster: String = "c1") throws -> ServiceInstance {
    ServiceInstance(
      service: try ServiceName("example"),
      cluster: try Cluster(cluster),
      address: InstanceAddress(host: "127.0.0.1", port: port)
    )
  }

  @Test(
    "instances register, list, and a watcher sees them come and go",
    arguments: StoreUnderTest.all
  )
  func registerAndWatch(_ subject: StoreUnderTest) async throws {
    let (store, _) = try await subject.make()
    let registry = Registry(store: store)
    let service = try ServiceName("example")
    var updates = registry.watch(service).makeAsyncIterator()
    #expect(try await updates.next() == [])
    let first = try await registry.register(instance(9001))
    #expect(try await updates.next()?.map(\.port) == [9001])
    let second = try await registry.register(instance(9002, cluster: "c2"))
    #expect(try await updates.next()?.map(\.port) == [9001, 9002])
    #expect(try await registry.instances(of: service).map(\.cluster) == ["c1", "c2"])
    try await first.deregister()
    #expect(try await updates.next()?.map(\.port) == [9002])
    try await second.deregister()
    #expect(try await updates.next() == [])
  }

  @Test("an instance that stops keeping its lease alive disappears", arguments: StoreUnderTest.all)
  func leaseLapse(_ subject: StoreUnderTest) async throws {
    let (store, expireAfter) = try await subject.make()
    let registry = Registry(store: store)
    _ = try await registry.register(instance(9003), ttl: .seconds(1))
    #expect(try await registry.instances(of: ServiceName("example")).count == 1)
    try await expireAfter(.seconds(2))
    #expect(try await registry.instances(of: ServiceName("example")).isEmpty)
  }

  @Test("a running registration keeps its instance registered past the TTL")
  func keepAlive() async throws {
    let store = MemoryConfigStore()
    let expiry = Task { await store.runExpiry(every: .milliseconds(50)) }
    let registration = try await Registry(store: store).register(instance(9004), ttl: .seconds(1))
    let running = Task { await registration.run() }
    try await Task.sleep(for: .milliseconds(2500))
    #expect(try await Registry(store: store).instances(of: ServiceName("example")).count == 1)
    running.cancel()
    try await Task.sleep(for: .milliseconds(1500))
    #expect(try await Registry(store: store).instances(of: ServiceName("example")).isEmpty)
    expiry.cancel()
  }
}

/// A registered instance whose process dies without a word: only its lease can remove it.
@Suite("Registry: a killed instance", .timeLimit(.minutes(2)))
struct KilledInstanceTests {
  /// A store served by a process of its own, as a mesh spread over processes uses it.
  enum ServedStore: String, CaseIterable, CustomTestStringConvertible {
    case memory, etcd
    var testDescription: String { rawValue }

    /// The stores to run against: etcd only where it is installed (or required).
    static let all = [memory] + (IntegrationPeer.etcd.shouldRun ? [etcd] : [])
  }

  @Test(
    "SIGKILL leaves the instance listed until its lease lapses, then watchers see it go",
    arguments: ServedStore.all
  )
  func killedInstanceLapses(_ kind: ServedStore) async throws {
    let skein = try skeinExecutable()
    var etcd: EtcdServer?
    var storeProcess: RunningProcess?
    defer { storeProcess?.signal() }
    let url: String
    let store: EtcdConfigStore
    switch kind {
    case .memory:
      let serving = try RunningProcess(skein, ["store", "serve", "--port", "0"])
      storeProcess = serving
      let line = try await serving.waitForLine(containing: "memory://")
      url = try #require(line.split(separator: " ").first { $0.hasPrefix("memory://") }).description
      store = EtcdConfigStore(endpoint: "http://" + url.dropFirst("memory://".count))
    case .etcd:
      let server = try await EtcdServer.start()
      etcd = server
      url = "etcd://127.0.0.1:\(server.clientPort)"
      store = EtcdConfigStore(endpoint: server.endpoint)
    }

    // Shut down on every path: a store client released without it fails an assertion, which
    // would take the whole test run down and leave the real failure unreported.
    do {
      try await expectLapse(skein: skein, url: url, store: store)
    } catch {
      try? await store.shutdown()
      throw error
    }
    try await store.shutdown()
    withExtendedLifetime(etcd) {}  // etcd stops when its server is released
  }

  /// Registers a `skein example serve` process through `url`, kills it, and checks that the
  /// store's watchers see it go only when its lease lapses.
  private func expectLapse(skein: String, url: String, store: EtcdConfigStore) async throws {
    let registry = Registry(store: store)
    let service = try ServiceName("example")
    var updates = registry.watch(service).makeAsyncIterator()
    #expect(try await updates.next() == [])
    let server = try RunningProcess(
      skein,
      ["example", "serve", "--port", "0", "--registry", url]
    )
    defer { server.signal(SIGKILL) }
    _ = try await server.waitForLine(containing: "registered in")
    #expect(try await updates.next()?.count == 1)

    server.signal(SIGKILL)
    let killed = ContinuousClock.now
    // Nothing deregisters a killed process: the list changes only when its 10 s lease lapses.
    #expect(try await updates.next() == [])
    let gone = ContinuousClock.now - killed
    // Kept alive every 3⅓ s, the lease lapses 6⅔–10 s after the last keep-alive.
    #expect(gone > .seconds(5) && gone < .seconds(14), "listed for \(gone) after the kill")
  }
}
