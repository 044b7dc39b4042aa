import Synchronization

/// Smooth weighted round robin (nginx's): over any window of `sum(weights)` picks each instance
/// gets exactly its weight, and picks of a heavy instance are spread out, not bunched.
public final class SmoothWeightedRoundRobin: LoadBalancer {
  private let current = Mutex<[InstanceAddress: Int]>([:])
  private let tracker = LoadTracker()

  /// Creates the balancer.
  public init() {}

  /// `round_robin`.
  public var kind: String { "round_robin" }

  /// Raises every instance's current weight by its weight, picks the highest, lowers it by the
  /// total.
  public func pick(from instances: [WeightedInstance], key: UInt64?) -> WeightedInstance? {
    let total = instances.reduce(0) { $0 + $1.weight }
    guard total > 0 else { return nil }
    return current.withLock { current in
      var best: WeightedInstance?
      var bestWeight = Int.min
      for instance in instances where instance.weight > 0 {
        let raised = current[instance.address, default: 0] + instance.weight
        current[instance.address] = raised
        if raised > bestWeight {
          best = instance
          bestWeight = raised
        }
      }
      if let best { current[best.address, default: 0] -= total }
      // Instances no longer offered are forgotten, so a returning one starts fresh.
      if current.count > instances.count {
        let offered = Set(instances.map(\.address))
        current = current.filter { offered.contains($0.key) }
      }
      return best
    }
  }

  /// Counts the call for the state report.
  public func callStarted(_ instance: InstanceAddress) { tracker.started(instance) }

  /// Counts the call's end for the state report.
  public func callFinished(_ instance: InstanceAddress, latency: Duration) {
    tracker.finished(instance, latency: latency)
  }

  /// Weights and in-flight counts.
  public func state(of instances: [WeightedInstance]) -> [InstanceAddress: BalancerInstanceState] {
    tracker.state(of: instances)
  }
}

/// Weighted random: each pick independent, an instance's chance its share of the total weight.
public final class WeightedRandom: LoadBalancer {
  private let random: any BalancerRandom
  private let tracker = LoadTracker()

  /// Creates the balancer with a random source (the system's by default).
  public init(random: any BalancerRandom = SystemBalancerRandom()) {
    self.random = random
  }

  /// `random`.
  public var kind: String { "random" }

  /// Picks by weight.
  public func pick(from instances: [WeightedInstance], key: UInt64?) -> WeightedInstance? {
    let total = instances.reduce(0) { $0 + $1.weight }
    guard total > 0 else { return nil }
    var point = random.next(below: total)
    for instance in instances {
      if point < instance.weight { return instance }
      point -= instance.weight
    }
    return nil
  }

  /// Counts the call for the state report.
  public func callStarted(_ instance: InstanceAddress) { tracker.started(instance) }

  /// Counts the call's end for the state report.
  public func callFinished(_ instance: InstanceAddress, latency: Duration) {
    tracker.finished(instance, latency: latency)
  }

  /// Weights and in-flight counts.
  public func state(of instances: [WeightedInstance]) -> [InstanceAddress: BalancerInstanceState] {
    tracker.state(of: instances)
  }
}

/// Power of two choices, least loaded: draws two instances by weight and sends the call to the
/// one with less work, where work is `(calls in flight + 1) × latency average`. It avoids slow or
/// busy instances without the herd behaviour of always picking the least loaded.
public final class PowerOfTwoChoices: LoadBalancer {
  private let draw: WeightedRandom
  private let tracker = LoadTracker()

  /// Creates the balancer with a random source (the system's by default).
  public init(random: any BalancerRandom = SystemBalancerRandom()) {
    self.draw = WeightedRandom(random: random)
  }

  /// `p2c`.
  public var kind: String { "p2c" }

  /// Picks the less loaded of two weighted draws.
  public func pick(from instances: [WeightedInstance], key: UInt64?) -> WeightedInstance? {
    guard let first = draw.pick(from: instances, key: nil) else { return nil }
    let others = instances.filter { $0.address != first.address }
    guard let second = draw.pick(from: others, key: nil) else { return first }
    return work(second) < work(first) ? second : first
  }

  private func work(_ instance: WeightedInstance) -> Double {
    let load = tracker.load(instance.address)
    // An instance never measured counts as fast (1 ms), so new instances get tried.
    return Double(load.inFlight + 1) * max(load.latencyMilliseconds, 1)
  }

  /// Counts the call in flight.
  public func callStarted(_ instance: InstanceAddress) { tracker.started(instance) }

  /// Counts the call's end and its latency.
  public func callFinished(_ instance: InstanceAddress, latency: Duration) {
    tracker.finished(instance, latency: latency)
  }

  /// Weights, in-flight counts and latency averages.
  public func state(of instances: [WeightedInstance]) -> [InstanceAddress: BalancerInstanceState] {
    tracker.state(of: instances)
  }
}

/// Consistent hashing on a request key: the same key goes to the same instance while it is
/// there, and adding or removing one instance moves only about its share of the keys.
///
/// Each instance has `weight × virtualNodesPerWeight / 100` points on a 64-bit ring (at least
/// one); a key goes to the first point at or after its hash.
public final class ConsistentHash: LoadBalancer {
  /// Ring points per 100 weight.
  public static let defaultVirtualNodesPerWeight = 160

  private struct Ring {
    var instances: [WeightedInstance] = []
    var points: [(hash: UInt64, index: Int)] = []
  }

  private let virtualNodesPerWeight: Int
  private let ring = Mutex(Ring())
  private let tracker = LoadTracker()
  private let fallback = SmoothWeightedRoundRobin()

  /// Creates the balancer.
  public init(virtualNodesPerWeight: Int = ConsistentHash.defaultVirtualNodesPerWeight) {
    self.virtualNodesPerWeight = max(1, virtualNodesPerWeight)
  }

  /// `consistent_hash`.
  public var kind: String { "consistent_hash" }

  /// The instance owning `key`'s point on the ring; calls without a key are spread round robin.
  public func pick(from instances: [WeightedInstance], key: UInt64?) -> WeightedInstance? {
    guard let key else { return fallback.pick(from: instances, key: nil) }
    return ring.withLock { ring in
      if ring.instances != instances { ring = build(instances) }
      guard !ring.points.isEmpty else { return nil }
      let hash = Self.mix(key)
      var low = 0
      var high = ring.points.count
      while low < high {
        let middle = (low + high) / 2
        if ring.points[middle].hash < hash { low = middle + 1 } else { high = middle }
      }
      return ring.instances[ring.points[low == ring.points.count ? 0 : low].index]
    }
  }

  private func build(_ instances: [WeightedInstance]) -> Ring {
    var ring = Ring(instances: instances)
    for (index, instance) in instances.enumerated() where instance.weight > 0 {
      let count = max(1, instance.weight * virtualNodesPerWeight / 100)
      for replica in 0..<count {
        ring.points.append((Self.hash("\(instance.address)#\(replica)"), index))
      }
    }
    ring.points.sort { $0.hash < $1.hash }
    return ring
  }

  /// FNV-1a: stable across processes and runs, unlike `Hasher`.
  static func hash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x100_0000_01b3
    }
    return mix(hash)
  }

  /// Spreads nearby keys over the ring (splitmix64's finalizer).
  static func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9e37_79b9_7f4a_7c15
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }

  /// Counts the call for the state report.
  public func callStarted(_ instance: InstanceAddress) { tracker.started(instance) }

  /// Counts the call's end for the state report.
  public func callFinished(_ instance: InstanceAddress, latency: Duration) {
    tracker.finished(instance, latency: latency)
  }

  /// Weights and in-flight counts.
  public func state(of instances: [WeightedInstance]) -> [InstanceAddress: BalancerInstanceState] {
    tracker.state(of: instances)
  }
}
