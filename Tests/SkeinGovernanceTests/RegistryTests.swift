import SkeinGovernance
import SkeinRPC
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
