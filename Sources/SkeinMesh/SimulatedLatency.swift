import Foundation
public import SkeinRPC

/// A handler's latency as two numbers people know from dashboards, `p50_ms` and `p99_ms`, drawn
/// from the log-normal distribution that has them as its median and 99th percentile.
///
/// Log-normal because service latencies are: positive, most calls near the median and a long
/// right tail, and two percentiles fix it completely (`μ = ln p50`, `σ = ln(p99 / p50) / z₀.₉₉`).
/// `p99_ms == p50_ms` is a constant latency. Samples are capped at ``tailCap`` × p99 so one
/// unlucky draw cannot park a handler for minutes.
public struct LatencyDistribution: Sendable, Hashable {
  /// The median, in milliseconds.
  public var p50Milliseconds: Double
  /// The 99th percentile, in milliseconds; at least the median.
  public var p99Milliseconds: Double

  /// The 0.99 quantile of the standard normal distribution.
  static let z99 = 2.326_347_874_040_840_8
  /// The longest sample, as a multiple of p99.
  public static let tailCap = 10.0

  /// Creates a distribution; the loader checks `0 < p50 ≤ p99`.
  public init(p50Milliseconds: Double, p99Milliseconds: Double) {
    self.p50Milliseconds = p50Milliseconds
    self.p99Milliseconds = p99Milliseconds
  }

  /// σ of the underlying normal distribution.
  var sigma: Double { log(p99Milliseconds / p50Milliseconds) / Self.z99 }

  /// Draws one latency in milliseconds.
  public func sampleMilliseconds(using generator: inout some RandomNumberGenerator) -> Double {
    guard p99Milliseconds > p50Milliseconds else { return p50Milliseconds }
    // Box–Muller: two uniforms give one standard normal value.
    let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
    let u2 = Double.random(in: 0..<1, using: &generator)
    let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    let value = p50Milliseconds * exp(sigma * normal)
    return min(value, p99Milliseconds * Self.tailCap)
  }

  /// Draws one latency.
  public func sample(using generator: inout some RandomNumberGenerator) -> Duration {
    .microseconds(Int64((sampleMilliseconds(using: &generator) * 1000).rounded()))
  }
}

/// The edge load generator's defaults: who it calls as, how fast, in what shape, and the mix of
/// edge methods. Open-loop: calls start on schedule whatever the mesh answers, so a slow mesh
/// shows up as latency rather than as quietly lower load.
public struct LoadProfile: Sendable, Hashable {
  /// The service name the generator calls as (the `from` of its routes, in cluster `default`).
  public var caller: ServiceName
  /// Calls per second at full rate.
  public var rate: Double
  /// How the rate moves over time.
  public var shape: LoadShape
  /// The methods it calls, each with its share.
  public var mix: [LoadTarget]

  /// Creates a profile.
  public init(caller: ServiceName, rate: Double, shape: LoadShape, mix: [LoadTarget]) {
    self.caller = caller
    self.rate = rate
    self.shape = shape
    self.mix = mix
  }

  /// Calls per second `elapsed` seconds after the start.
  public func rate(atSecond elapsed: Double) -> Double {
    shape.factor(atSecond: elapsed) * rate
  }
}

/// How the load's rate moves over time.
public enum LoadShape: Sendable, Hashable {
  /// The full rate from the start.
  case steady
  /// From 0 up to the full rate over `seconds`, then steady: to watch a mesh warm up.
  case ramp(seconds: Double)
  /// The full rate, with `factor` × the rate for the last `duration` seconds of every `every`
  /// seconds: bursts that breakers and balancers must ride out.
  case spike(every: Double, duration: Double, factor: Double)

  /// The shape's name in a mesh file.
  public var kind: String {
    switch self {
    case .steady: "steady"
    case .ramp: "ramp"
    case .spike: "spike"
    }
  }

  /// The multiple of the full rate in force `elapsed` seconds after the start.
  public func factor(atSecond elapsed: Double) -> Double {
    switch self {
    case .steady:
      return 1
    case .ramp(let seconds):
      return min(1, max(0, elapsed / seconds))
    case .spike(let every, let duration, let factor):
      let phase = elapsed.truncatingRemainder(dividingBy: every)
      return phase >= every - duration ? factor : 1
    }
  }
}

/// One edge method the load generator calls, with its share of the calls.
public struct LoadTarget: Sendable, Hashable {
  /// The call, with its timeout and starting traffic split and balancer.
  public var call: MeshCall
  /// Its share: calls go to targets in proportion to their weights.
  public var weight: Int

  /// Creates a target.
  public init(call: MeshCall, weight: Int) {
    self.call = call
    self.weight = weight
  }
}
