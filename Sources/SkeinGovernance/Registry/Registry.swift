import Foundation
public import ServiceLifecycle
public import SkeinRPC
import Synchronization

/// One registered instance of a service: where it listens and its share of the traffic.
public struct ServiceInstance: Sendable, Hashable, Codable {
  /// The service.
  public var service: String
  /// Its cluster.
  public var cluster: String
  /// A name unique within the cluster (`host:port` by default).
  public var id: String
  /// The host callers connect to.
  public var host: String
  /// The port.
  public var port: Int
  /// The balancer weight (default 100).
  public var weight: Int
  /// Its admin endpoint (`host:port`: metrics, snapshots), if it serves one.
  public var admin: String?

  /// Creates an instance.
  public init(
    service: ServiceName,
    cluster: Cluster,
    address: InstanceAddress,
    id: String? = nil,
    weight: Int = 100,
    admin: InstanceAddress? = nil
  ) {
    self.service = service.rawValue
    self.cluster = cluster.rawValue
    self.id = id ?? "\(address.host):\(address.port)"
    self.host = address.host
    self.port = address.port
    self.weight = max(0, weight)
    self.admin = admin?.description
  }

  /// Where it listens.
  public var address: InstanceAddress { InstanceAddress(host: host, port: port) }

  /// Where its admin endpoint listens, if it registered one that parses.
  public var adminAddress: InstanceAddress? { admin.flatMap { try? InstanceAddress(parsing: $0) } }

  /// Its registry key: `/skein/services/service/cluster/id`.
  public var key: String { "\(Registry.root)/\(service)/\(cluster)/\(id)" }
}

/// Service discovery on the config store: instances register under a lease that they keep
/// alive, so a dead instance disappears when its lease lapses; callers watch a service and see
/// its instance list change without restarting.
public struct Registry: Sendable {
  /// The prefix every registration lives under.
  public static let root = "/skein/services"

  private let store: any ConfigStore

  /// A registry on `store`.
  public init(store: any ConfigStore) {
    self.store = store
  }

  /// Registers `instance` under a lease of `ttl`; run the returned registration to keep it
  /// alive.
  public func register(_ instance: ServiceInstance, ttl: Duration = .seconds(10)) async throws
    -> Registration
  {
    let registration = Registration(store: store, instance: instance, ttl: ttl)
    try await registration.register()
    return registration
  }

  /// The instances of `service` registered now, in key order.
  public func instances(of service: ServiceName) async throws -> [ServiceInstance] {
    try await Self.decode(store.list(prefix: prefix(service)).entries)
  }

  /// Every registered instance of every service now, in key order.
  public func allInstances() async throws -> [ServiceInstance] {
    try await Self.decode(store.list(prefix: Self.root + "/").entries)
  }

  /// The instance list of `service`, first as it is, then again after every change, until the
  /// task is cancelled.
  public func watch(_ service: ServiceName) -> AsyncThrowingStream<[ServiceInstance], any Error> {
    watch(prefix: prefix(service))
  }

  /// Every registered instance of every service, first as they are, then again after every
  /// change: what a mesh-wide view (`skein stats --registry`) follows.
  public func watchAll() -> AsyncThrowingStream<[ServiceInstance], any Error> {
    watch(prefix: Self.root + "/")
  }

  private func watch(prefix: String) -> AsyncThrowingStream<[ServiceInstance], any Error> {
    let store = self.store
    return AsyncThrowingStream { continuation in
      let task = Task {
        do {
          let (entries, revision) = try await store.list(prefix: prefix)
          var current = Dictionary(
            uniqueKeysWithValues: entries.map { ($0.key, $0.value) }
          )
          continuation.yield(Self.decode(current.sorted { $0.key < $1.key }.map(\.value)))
          for try await change in store.watch(prefix: prefix, after: revision) {
            current[change.key] = change.kind == .put ? change.value : nil
            continuation.yield(Self.decode(current.sorted { $0.key < $1.key }.map(\.value)))
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  private func prefix(_ service: ServiceName) -> String { "\(Self.root)/\(service)/" }

  private static func decode(_ entries: [ConfigEntry]) -> [ServiceInstance] {
    decode(entries.map(\.value))
  }

  /// Values that do not decode are skipped: one bad registration must not hide the others.
  private static func decode(_ values: [String]) -> [ServiceInstance] {
    values.compactMap { try? JSONDecoder().decode(ServiceInstance.self, from: Data($0.utf8)) }
  }
}

/// A registered instance: keep it alive with ``run()``, remove it with ``deregister()``.
///
/// It is a swift-service-lifecycle `Service`: in a `ServiceGroup`, a graceful shutdown
/// deregisters the instance at once, so callers stop sending before the server drains.
public final class Registration: Service, Sendable {
  /// The instance registered.
  public let instance: ServiceInstance
  /// The lease's time to live.
  public let ttl: Duration
  private let store: any ConfigStore
  private let lease = Mutex<LeaseID?>(nil)

  init(store: any ConfigStore, instance: ServiceInstance, ttl: Duration) {
    self.store = store
    self.instance = instance
    self.ttl = ttl
  }

  /// The lease the registration lives under now.
  public var currentLease: LeaseID? { lease.withLock { $0 } }

  func register() async throws {
    let granted = try await store.grantLease(ttl: ttl)
    let value = String(decoding: try JSONEncoder().encode(instance), as: UTF8.self)
    try await store.put(instance.key, value, lease: granted)
    lease.withLock { $0 = granted }
  }

  /// Keeps the lease alive (three keep-alives per TTL) until the task is cancelled (the lease
  /// then lapses after its TTL) or a graceful shutdown begins (the instance is deregistered);
  /// if the lease was lost (the store restarted, the process stalled), registers again.
  public func run() async {
    await cancelWhenGracefulShutdown { await self.keepAlive() }
    if Task.isShuttingDownGracefully { try? await deregister() }
  }

  private func keepAlive() async {
    var pause = ttl / 3
    while !Task.isCancelled {
      try? await Task.sleep(for: pause)
      guard !Task.isCancelled else { return }
      pause = ttl / 3
      do {
        if let current = currentLease {
          try await store.keepAlive(current)
        } else {
          try await register()
        }
      } catch let error as ConfigStoreError where error.code == .leaseNotFound {
        lease.withLock { $0 = nil }
        if (try? await register()) == nil { pause = Self.retryPause }
      } catch {
        // The store is slow or unreachable: try again soon, not a third of the TTL later,
        // or one slow answer could let the lease lapse.
        pause = Self.retryPause
      }
    }
  }

  /// How soon a keep-alive or registration that failed is tried again.
  static let retryPause = Duration.seconds(1)

  /// Removes the registration now.
  public func deregister() async throws {
    guard
      let current = lease.withLock({ lease -> LeaseID? in
        defer { lease = nil }
        return lease
      })
    else { return }
    try await store.revokeLease(current)
  }
}
