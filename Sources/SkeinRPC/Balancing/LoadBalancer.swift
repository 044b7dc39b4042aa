import Synchronization

/// One instance a balancer can pick, with the weight the registry gave it.
public struct WeightedInstance: Sendable, Hashable {
  /// Where it listens.
  public var address: InstanceAddress
  /// Its share of the calls relative to the others; 0 takes none.
  public var weight: Int

  /// Creates an instance.
  public init(_ address: InstanceAddress, weight: Int = 100) {
    self.address = address
    self.weight = max(0, weight)
  }
}

/// What a balancer knows about one instance, for the metrics stream and the dashboard.
public struct BalancerInstanceState: Sendable, Hashable {
  /// The weight in force.
  public var weight: Int
  /// Calls in flight to it.
  public var inFlight: Int
  /// The latency average the balancer uses, in milliseconds (0 when it does not track one).
  public var latencyMilliseconds: Double
}

/// Picks the instance each call goes to: in process, on the caller, with no proxy.
///
/// Balancers are told when calls start and end so the ones that weigh load (power of two
/// choices) can; every balancer reports its per-instance state the same way.
public protocol LoadBalancer: Sendable {
  /// The kind, as route config names it (`round_robin`, `random`, `p2c`, `consistent_hash`).
  var kind: String { get }

  /// Picks an instance, or `nil` when none has a positive weight.
  ///
  /// - Parameters:
  ///   - instances: The candidates (instances whose breaker is open already removed).
  ///   - key: The request key, for balancers that keep a key on one instance.
  func pick(from instances: [WeightedInstance], key: UInt64?) -> WeightedInstance?

  /// A call to `instance` started.
  func callStarted(_ instance: InstanceAddress)

  /// A call to `instance` ended after `latency`.
  func callFinished(_ instance: InstanceAddress, latency: Duration)

  /// Weights, in-flight counts and latencies per instance.
  func state(of instances: [WeightedInstance]) -> [InstanceAddress: BalancerInstanceState]
}

/// In-flight counts and latency averages per instance: the load a balancer can see.
final class LoadTracker: Sendable {
  private struct Load {
    var inFlight = 0
    var latencyMilliseconds = 0.0
  }

  /// How much a new latency sample moves the average.
  static let smoothing = 0.2

  private let loads = Mutex<[InstanceAddress: Load]>([:])

  func started(_ instance: InstanceAddress) {
    loads.withLock { $0[instance, default: Load()].inFlight += 1 }
  }

  func finished(_ instance: InstanceAddress, latency: Duration) {
    let milliseconds = latency / .milliseconds(1)
    loads.withLock { loads in
      var load = loads[instance, default: Load()]
      load.inFlight = max(0, load.inFlight - 1)
      load.latencyMilliseconds =
        load.latencyMilliseconds == 0
        ? milliseconds
        : load.latencyMilliseconds + Self.smoothing * (milliseconds - load.latencyMilliseconds)
      loads[instance] = load
    }
  }

  func load(_ instance: InstanceAddress) -> (inFlight: Int, latencyMilliseconds: Double) {
    loads.withLock { loads in
      let load = loads[instance] ?? Load()
      return (load.inFlight, load.latencyMilliseconds)
    }
  }

  func state(of instances: [WeightedInstance]) -> [InstanceAddress: BalancerInstanceState] {
    Dictionary(
      instances.map { instance in
        let load = self.load(instance.address)
        return (
          instance.address,
          BalancerInstanceState(
            weight: instance.weight,
            inFlight: load.inFlight,
            latencyMilliseconds: load.latencyMilliseconds
          )
        )
      },
      uniquingKeysWith: { first, _ in first }
    )
  }
}

/// A source of random numbers that tests can fix.
public protocol BalancerRandom: Sendable {
  /// A number in `0..<upperBound` (`upperBound` > 0).
  func next(below upperBound: Int) -> Int
}

/// The system's random numbers.
public struct SystemBalancerRandom: BalancerRandom {
  /// Creates the source.
  public init() {}

  /// A random number in `0..<upperBound`.
  public func next(below upperBound: Int) -> Int { Int.random(in: 0..<upperBound) }
}

/// The balancers Skein ships, by the kind route config names them, so a route can switch
/// balancer at run time by data alone.
public enum LoadBalancerKind {
  /// Every kind ``make(_:)`` knows: `round_robin`, `random`, `p2c`, `consistent_hash`.
  public static let all = ["round_robin", "random", "p2c", "consistent_hash"]

  /// A fresh balancer of `kind`, or `nil` for a kind Skein does not ship.
  public static func make(_ kind: String) -> (any LoadBalancer)? {
    switch kind {
    case "round_robin": SmoothWeightedRoundRobin()
    case "random": WeightedRandom()
    case "p2c": PowerOfTwoChoices()
    case "consistent_hash": ConsistentHash()
    default: nil
    }
  }
}
