import SkeinGovernance
import SkeinRPC
import Synchronization
import Testing

/// A seeded random source (SplitMix64), so distributions are the same every run.
final class SeededRandom: BalancerRandom {
  private let state: Mutex<UInt64>
  init(seed: UInt64) { state = Mutex(seed) }

  func next(below upperBound: Int) -> Int {
    let value = state.withLock { state -> UInt64 in
      state &+= 0x9e37_79b9_7f4a_7c15
      var z = state
      z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
      z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
      return z ^ (z >> 31)
    }
    return Int(value % UInt64(upperBound))
  }
}

func instance(_ port: Int, weight: Int) -> WeightedInstance {
  WeightedInstance(InstanceAddress(host: "10.0.0.1", port: port), weight: weight)
}

/// How often each port was picked in `picks` picks.
func distribution(
  _ balancer: any LoadBalancer,
  _ instances: [WeightedInstance],
  picks: Int = 100_000,
  key: (Int) -> UInt64? = { _ in nil }
) -> [Int: Int] {
  var counts: [Int: Int] = [:]
  for i in 0..<picks {
    if let picked = balancer.pick(from: instances, key: key(i)) {
      counts[picked.address.port, default: 0] += 1
    }
  }
  return counts
}

@Suite struct BalancerTests {
  let weighted = [instance(1, weight: 50), instance(2, weight: 30), instance(3, weight: 20)]

  @Test func smoothRoundRobinIsExactAndSpread() {
    let balancer = SmoothWeightedRoundRobin()
    let three = [instance(1, weight: 5), instance(2, weight: 1), instance(3, weight: 1)]
    let sequence = (0..<7).compactMap { _ in balancer.pick(from: three, key: nil)?.address.port }
    // nginx's order for 5/1/1: the heavy instance is never picked more than twice in a row.
    #expect(sequence == [1, 1, 2, 1, 3, 1, 1])
    #expect(distribution(balancer, weighted) == [1: 50_000, 2: 30_000, 3: 20_000])
  }

  @Test func weightChangesTakeEffect() {
    let balancer = SmoothWeightedRoundRobin()
    _ = distribution(balancer, weighted, picks: 10)
    let changed = [instance(1, weight: 0), instance(2, weight: 1), instance(3, weight: 3)]
    #expect(distribution(balancer, changed, picks: 40_000) == [2: 10_000, 3: 30_000])
    #expect(balancer.pick(from: [instance(1, weight: 0)], key: nil) == nil)
  }

  @Test func weightedRandomWithinOnePercent() {
    let counts = distribution(WeightedRandom(random: SeededRandom(seed: 7)), weighted)
    for (port, share) in [(1, 0.5), (2, 0.3), (3, 0.2)] {
      #expect(abs(Double(counts[port] ?? 0) / 100_000 - share) < 0.01, "\(port): \(counts)")
    }
  }

  @Test func powerOfTwoChoicesAvoidsTheBusyAndTheSlow() {
    let balancer = PowerOfTwoChoices(random: SeededRandom(seed: 3))
    let even = [instance(1, weight: 100), instance(2, weight: 100), instance(3, weight: 100)]
    // Instance 1 is slow (50 ms), the others fast (1 ms).
    for _ in 0..<20 {
      balancer.callStarted(even[0].address)
      balancer.callFinished(even[0].address, latency: .milliseconds(50))
      for fast in even.dropFirst() {
        balancer.callStarted(fast.address)
        balancer.callFinished(fast.address, latency: .milliseconds(1))
      }
    }
    let counts = distribution(balancer, even, picks: 30_000)
    // The slow one wins only when drawn twice… which p2c never does: it draws two distinct.
    #expect((counts[1] ?? 0) == 0, "\(counts)")
    #expect(abs((counts[2] ?? 0) - (counts[3] ?? 0)) < 1_500, "\(counts)")
    // Calls in flight count too: with 10 piled onto instance 2, instance 3 wins both pairs it
    // is drawn in (2/3 of the picks) and 2 only its pair with the slow one (1/3).
    for _ in 0..<10 { balancer.callStarted(even[1].address) }
    let busy = distribution(balancer, even, picks: 30_000)
    #expect(abs(Double(busy[3] ?? 0) / 30_000 - 2.0 / 3) < 0.02, "\(busy)")
    #expect((busy[1] ?? 0) == 0, "\(busy)")
    let state = balancer.state(of: even)
    #expect(state[even[1].address]?.inFlight == 10)
    #expect(state[even[0].address]?.latencyMilliseconds ?? 0 > 40)
  }

  @Test func consistentHashKeepsKeysAndMovesFew() {
    let balancer = ConsistentHash()
    let four = (1...4).map { instance($0, weight: 100) }
    let before = (0..<10_000).map { balancer.pick(from: four, key: UInt64($0))!.address.port }
    let again = (0..<10_000).map { balancer.pick(from: four, key: UInt64($0))!.address.port }
    #expect(before == again, "the same key goes to the same instance")
    let shares = Dictionary(grouping: before, by: { $0 }).mapValues { Double($0.count) / 10_000 }
    #expect(shares.values.allSatisfy { abs($0 - 0.25) < 0.05 }, "\(shares)")
    let five = four + [instance(5, weight: 100)]
    let after = (0..<10_000).map { balancer.pick(from: five, key: UInt64($0))!.address.port }
    let moved = zip(before, after).filter { $0 != $1 }
    // About a fifth of the keys move, all of them to the new instance.
    #expect(moved.allSatisfy { $0.1 == 5 })
    #expect(abs(Double(moved.count) / 10_000 - 0.2) < 0.05, "\(moved.count) moved")
  }
}
