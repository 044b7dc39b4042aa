import Foundation
public import SkeinGovernance
import Synchronization

/// A fault injected into one instance of the mesh, as the value of its key
/// `/skein/faults/service/cluster/instance`: extra latency, an error rate, the instance killed
/// (`down`) or cut off (`partitioned`: it takes calls and never answers). The dashboard and
/// `skein ctl fault` write it; the instance obeys within ``FaultBook/pollInterval``.
public struct InstanceFault: Sendable, Hashable, Codable {
  /// Milliseconds added to every call's work.
  public var latencyMilliseconds: Int?
  /// The share of calls that fail, 0...1, on top of the method's own error rate.
  public var errorRate: Double?
  /// The instance is killed: its server and admin endpoint are closed and its lease lapses;
  /// clearing it restarts the instance.
  public var down: Bool?
  /// The instance accepts calls and never answers them: only its callers' deadlines end them.
  public var partitioned: Bool?

  /// The prefix every fault key lives under.
  public static let root = "/skein/faults"
  /// The most latency a fault may add (a minute): more is a typo.
  public static let maxLatencyMilliseconds = 60_000

  /// A fault; every part left out is off.
  public init(
    latencyMilliseconds: Int? = nil,
    errorRate: Double? = nil,
    down: Bool? = nil,
    partitioned: Bool? = nil
  ) {
    self.latencyMilliseconds = latencyMilliseconds
    self.errorRate = errorRate
    self.down = down
    self.partitioned = partitioned
  }

  /// No fault.
  public static let none = InstanceFault()

  /// The key of `instance`'s fault.
  public static func key(of instance: MeshInstance) -> String {
    "\(root)/\(instance.service)/\(instance.cluster)/\(instance.index)"
  }

  /// Reads and checks a fault value.
  ///
  /// - Throws: A decoding error, or ``GovernanceValueError`` for a value out of range.
  public static func parse(_ value: String) throws -> InstanceFault {
    let fault = try JSONDecoder().decode(InstanceFault.self, from: Data(value.utf8))
    if let latency = fault.latencyMilliseconds, !(0...maxLatencyMilliseconds).contains(latency) {
      throw GovernanceValueError("latency_ms must be 0...\(maxLatencyMilliseconds)")
    }
    if let rate = fault.errorRate, !(0...1).contains(rate) {
      throw GovernanceValueError("error_rate must be 0...1")
    }
    return fault
  }

  /// The value to store, keys sorted.
  public var value: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    // Encoding a struct of optionals cannot fail.
    return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  enum CodingKeys: String, CodingKey {
    case latencyMilliseconds = "latency_ms"
    case errorRate = "error_rate"
    case down, partitioned
  }
}

/// The faults in force, kept current from the config store; a node reads its own on every
/// call (one lock, one lookup). A malformed value is reported and the last good one stays.
public final class FaultBook: Sendable {
  /// How often a node checks whether it was killed or restarted.
  public static let pollInterval = Duration.milliseconds(100)

  private let store: any ConfigStore
  private let faults = Mutex<[String: InstanceFault]>([:])
  private let onEvent: @Sendable (GovernanceEvent) -> Void

  /// A book following `store`; call ``run()``.
  public init(
    store: any ConfigStore,
    onEvent: @escaping @Sendable (GovernanceEvent) -> Void = { _ in }
  ) {
    self.store = store
    self.onEvent = onEvent
  }

  /// The fault of the instance whose key is `key` (see ``InstanceFault/key(of:)``).
  public func fault(_ key: String) -> InstanceFault {
    faults.withLock { $0[key] } ?? .none
  }

  /// Follows the fault keys until the task is cancelled.
  public func run() async {
    await store.mirror(
      prefix: InstanceFault.root + "/",
      onError: { [onEvent] error in
        onEvent(GovernanceEvent(key: nil, message: "config store: \(error); retrying"))
      },
      reset: { faults.withLock { $0.removeAll() } },
      apply: apply
    )
  }

  private func apply(_ key: String, _ value: String?) {
    guard let value else {
      faults.withLock { $0[key] = nil }
      onEvent(GovernanceEvent(key: key, message: "fault cleared"))
      return
    }
    do {
      let fault = try InstanceFault.parse(value)
      faults.withLock { $0[key] = fault }
      onEvent(GovernanceEvent(key: key, message: "fault \(fault.value)"))
    } catch {
      onEvent(
        GovernanceEvent(
          key: key,
          message: "malformed fault value \(value): \(error); the last good value stays"
        )
      )
    }
  }
}
