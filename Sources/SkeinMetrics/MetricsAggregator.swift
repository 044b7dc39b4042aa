public import CoreMetrics
public import Histogram
import SkeinRPC
import Synchronization

/// Skein's own swift-metrics backend: keeps every metric in memory and hands out readings
/// that the snapshot stream, `/metrics` and the dashboard are built from.
///
/// Calls are recorded without locks shared across cores: counters are atomics and each
/// timer's latency histogram is sharded by thread (``Sharded``). A timer is read per interval:
/// ``collect()`` takes what its shards recorded since the last reading and starts them afresh,
/// so percentiles describe the last interval, while counters count since start.
///
/// Use it as the process's factory (`MetricsSystem.bootstrap(aggregator)`), next to another
/// backend with `MultiplexMetricsHandler`, or pass it to the metrics middleware directly.
public final class MetricsAggregator: MetricsFactory, Sendable {
  /// How latencies are kept.
  public struct Configuration: Sendable, Hashable {
    /// The largest latency a histogram tells apart; longer ones count as this (default 60 s).
    public var highestLatency: Duration
    /// Relative precision of recorded latencies (default two digits: within 1%).
    public var significantDigits: SignificantDigits
    /// Shards per histogram; 0 picks two per core.
    public var shards: Int

    /// Creates a configuration.
    public init(
      highestLatency: Duration = .seconds(60),
      significantDigits: SignificantDigits = .two,
      shards: Int = 0
    ) {
      self.highestLatency = highestLatency
      self.significantDigits = significantDigits
      self.shards = shards
    }
  }

  /// The configuration.
  public let configuration: Configuration
  private let metrics = Mutex<[MetricKey: Metric]>([:])

  /// Creates an aggregator.
  public init(configuration: Configuration = Configuration()) {
    self.configuration = configuration
  }

  /// What one metric holds, by kind.
  enum Metric {
    case counter(AtomicCounter)
    case meter(AtomicMeter)
    case timer(LatencyTimer)
    case recorder(LastValueRecorder)
    case floatingPointCounter(FloatingPointSum)
  }

  // A metric asked for twice (same label and dimensions) is the same metric: two middlewares
  // on one route add to one count.
  private func metric(_ key: MetricKey, make: () -> Metric) -> Metric {
    metrics.withLock { metrics in
      if let existing = metrics[key] { return existing }
      let made = make()
      metrics[key] = made
      return made
    }
  }

  /// Creates (or returns) the counter of `label` and `dimensions`.
  public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
    let key = MetricKey(label, dimensions)
    if case .counter(let counter) = metric(key, make: { .counter(AtomicCounter(key)) }) {
      return counter
    }
    return AtomicCounter(key)  // The name is taken by another kind: counted, not read.
  }

  /// Creates (or returns) the floating-point counter of `label` and `dimensions`.
  public func makeFloatingPointCounter(
    label: String,
    dimensions: [(String, String)]
  ) -> any FloatingPointCounterHandler {
    let key = MetricKey(label, dimensions)
    let made = metric(key) { .floatingPointCounter(FloatingPointSum(key)) }
    if case .floatingPointCounter(let counter) = made { return counter }
    return FloatingPointSum(key)
  }

  /// Creates (or returns) the meter of `label` and `dimensions`.
  public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
    let key = MetricKey(label, dimensions)
    if case .meter(let meter) = metric(key, make: { .meter(AtomicMeter(key)) }) { return meter }
    return AtomicMeter(key)
  }

  /// Creates (or returns) the recorder of `label` and `dimensions`; it keeps the last value.
  public func makeRecorder(
    label: String,
    dimensions: [(String, String)],
    aggregate: Bool
  ) -> any RecorderHandler {
    let key = MetricKey(label, dimensions)
    let made = metric(key) { .recorder(LastValueRecorder(key)) }
    if case .recorder(let recorder) = made { return recorder }
    return LastValueRecorder(key)
  }

  /// Creates (or returns) the timer of `label` and `dimensions`: a latency histogram.
  public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
    let key = MetricKey(label, dimensions)
    let made = metric(key) { .timer(LatencyTimer(key, configuration: configuration)) }
    if case .timer(let timer) = made { return timer }
    return LatencyTimer(key, configuration: configuration)
  }

  /// Forgets a counter.
  public func destroyCounter(_ handler: any CounterHandler) {
    forget((handler as? AtomicCounter)?.key)
  }

  /// Forgets a floating-point counter.
  public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
    forget((handler as? FloatingPointSum)?.key)
  }

  /// Forgets a meter.
  public func destroyMeter(_ handler: any MeterHandler) {
    forget((handler as? AtomicMeter)?.key)
  }

  /// Forgets a recorder.
  public func destroyRecorder(_ handler: any RecorderHandler) {
    forget((handler as? LastValueRecorder)?.key)
  }

  /// Forgets a timer.
  public func destroyTimer(_ handler: any TimerHandler) {
    forget((handler as? LatencyTimer)?.key)
  }

  private func forget(_ key: MetricKey?) {
    guard let key else { return }
    _ = metrics.withLock { $0.removeValue(forKey: key) }
  }

  /// Reads every metric: counters and meters as they stand, timers' latencies since the last
  /// reading (which starts the next interval).
  public func collect() -> MetricsReading {
    let all = metrics.withLock { Array($0) }
    var reading = MetricsReading()
    for (key, metric) in all {
      switch metric {
      case .counter(let counter): reading.counters[key] = counter.value
      case .floatingPointCounter(let counter): reading.values[key] = counter.value
      case .meter(let meter): reading.values[key] = meter.value
      case .recorder(let recorder): reading.values[key] = recorder.value
      case .timer(let timer): reading.latencies[key] = timer.takeInterval()
      }
    }
    return reading
  }

  /// Bytes the aggregator's histograms take (the bound on memory per route).
  public var histogramBytes: Int {
    metrics.withLock { metrics in
      metrics.values.reduce(0) { total, metric in
        guard case .timer(let timer) = metric else { return total }
        return total + timer.footprintBytes
      }
    }
  }
}

/// A metric's name: its label and dimensions.
public struct MetricKey: Sendable, Hashable, CustomStringConvertible {
  /// The label.
  public var label: String
  /// The dimensions, as given.
  public var dimensions: [Dimension]

  /// One `(name, value)` dimension.
  public struct Dimension: Sendable, Hashable {
    /// The dimension's name.
    public var name: String
    /// Its value.
    public var value: String
  }

  /// Creates a key.
  public init(_ label: String, _ dimensions: [(String, String)]) {
    self.label = label
    self.dimensions = dimensions.map { Dimension(name: $0.0, value: $0.1) }
  }

  /// The value of dimension `name`, if the key has it.
  public subscript(_ name: String) -> String? {
    dimensions.first { $0.name == name }?.value
  }

  /// `label{name="value",…}`.
  public var description: String {
    guard !dimensions.isEmpty else { return label }
    return label + "{" + dimensions.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",")
      + "}"
  }
}

/// Everything an aggregator held at one moment.
public struct MetricsReading: Sendable {
  /// Counters, since start.
  public var counters: [MetricKey: Int64] = [:]
  /// Meters, recorders and floating-point counters, as they stand.
  public var values: [MetricKey: Double] = [:]
  /// Timers: the latencies recorded in the interval that just ended.
  public var latencies: [MetricKey: LatencySummary] = [:]
}

/// The latencies of one interval.
public struct LatencySummary: Sendable, Hashable, Codable {
  /// Calls timed in the interval.
  public var count: Int
  /// Percentiles and maximum, in milliseconds (0 when nothing was timed).
  public var p50: Double
  /// The 90th percentile.
  public var p90: Double
  /// The 99th percentile.
  public var p99: Double
  /// The 99.9th percentile.
  public var p999: Double
  /// The longest.
  public var max: Double

  /// No calls.
  public static let empty = LatencySummary(count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0)

  /// Summarizes a histogram of microseconds.
  init(microseconds histogram: Histogram<UInt32>) {
    guard histogram.totalCount > 0 else {
      self = .empty
      return
    }
    // Percentiles report the highest value equivalent to the bucket: never below the truth.
    func ms(_ percentile: Double) -> Double {
      Double(histogram.valueAtPercentile(percentile)) / 1000
    }
    self.init(
      count: Int(histogram.totalCount),
      p50: ms(50),
      p90: ms(90),
      p99: ms(99),
      p999: ms(99.9),
      max: Double(histogram.max) / 1000
    )
  }

  /// Creates a summary.
  public init(count: Int, p50: Double, p90: Double, p99: Double, p999: Double, max: Double) {
    self.count = count
    self.p50 = p50
    self.p90 = p90
    self.p99 = p99
    self.p999 = p999
    self.max = max
  }
}

/// A counter: one atomic add per increment.
final class AtomicCounter: CounterHandler, Sendable {
  let key: MetricKey
  private let total = Atomic<Int64>(0)

  init(_ key: MetricKey) { self.key = key }

  func increment(by amount: Int64) { total.wrappingAdd(amount, ordering: .relaxed) }
  func reset() { total.store(0, ordering: .relaxed) }
  var value: Int64 { total.load(ordering: .relaxed) }
}

/// A meter: a `Double` kept as its bits, so set and add are atomic.
final class AtomicMeter: MeterHandler, Sendable {
  let key: MetricKey
  private let bits = Atomic<UInt64>(0)

  init(_ key: MetricKey) { self.key = key }

  func set(_ value: Int64) { set(Double(value)) }
  func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
  func increment(by amount: Double) { add(amount) }
  func decrement(by amount: Double) { add(-amount) }

  private func add(_ amount: Double) {
    var current = bits.load(ordering: .relaxed)
    while true {
      let next = (Double(bitPattern: current) + amount).bitPattern
      let (exchanged, original) = bits.weakCompareExchange(
        expected: current,
        desired: next,
        ordering: .relaxed
      )
      if exchanged { return }
      current = original
    }
  }

  var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}

/// A recorder that keeps the last value: a gauge.
final class LastValueRecorder: RecorderHandler, Sendable {
  let key: MetricKey
  private let meter: AtomicMeter

  init(_ key: MetricKey) {
    self.key = key
    self.meter = AtomicMeter(key)
  }

  func record(_ value: Int64) { meter.set(value) }
  func record(_ value: Double) { meter.set(value) }
  var value: Double { meter.value }
}

/// A floating-point counter.
final class FloatingPointSum: FloatingPointCounterHandler, Sendable {
  let key: MetricKey
  private let meter: AtomicMeter

  init(_ key: MetricKey) {
    self.key = key
    self.meter = AtomicMeter(key)
  }

  func increment(by amount: Double) { meter.increment(by: amount) }
  func reset() { meter.set(0.0) }
  var value: Double { meter.value }
}

/// A timer: latencies in microseconds in a histogram per shard, read and restarted per
/// interval.
final class LatencyTimer: TimerHandler, Sendable {
  let key: MetricKey
  private let shards: Sharded<Histogram<UInt32>>
  private let highest: UInt64

  init(_ key: MetricKey, configuration: MetricsAggregator.Configuration) {
    self.key = key
    let highest = UInt64(max(2, configuration.highestLatency.nanoseconds / 1000))
    self.highest = highest
    let digits = configuration.significantDigits
    let make = {
      Histogram<UInt32>(
        lowestDiscernibleValue: 1,
        highestTrackableValue: highest,
        numberOfSignificantValueDigits: digits
      )
    }
    shards =
      configuration.shards > 0
      ? Sharded(count: configuration.shards, make: make) : Sharded(make: make)
  }

  func recordNanoseconds(_ duration: Int64) {
    let microseconds = min(UInt64(max(1, duration / 1000)), highest)
    shards.withLocalShard { histogram in _ = histogram.record(microseconds) }
  }

  /// The interval's latencies; the shards start empty again.
  func takeInterval() -> LatencySummary {
    var merged: Histogram<UInt32>?
    shards.forEachShard { histogram in
      if histogram.totalCount > 0 {
        if merged == nil { merged = histogram } else { merged?.add(histogram) }
        histogram.reset()
      }
    }
    return merged.map { LatencySummary(microseconds: $0) } ?? .empty
  }

  var footprintBytes: Int {
    var total = 0
    shards.forEachShard { total += $0.estimatedFootprintInBytes }
    return total
  }
}
