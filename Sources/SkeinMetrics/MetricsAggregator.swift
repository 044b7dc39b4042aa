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
/// The metrics middleware's metrics of one route and side (requests, successes, errors by
/// kind, duration) are kept together in one route record per thread shard: the middleware
/// records into it directly when this is its factory, and the same metrics asked for through
/// swift-metrics (a `Counter` of the same label and dimensions) are handles onto it, so both
/// count as one. Those metrics count since start for every handle at once: a handle's `reset`
/// and `destroy…` leave them as they are.
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
  private let latencyFormat: LatencyFormat
  private let registry = Mutex(Registry())

  /// Creates an aggregator.
  public init(configuration: Configuration = Configuration()) {
    self.configuration = configuration
    self.latencyFormat = LatencyFormat(configuration)
  }

  /// What one metric holds, by kind.
  enum Metric {
    case counter(AtomicCounter)
    case meter(AtomicMeter)
    case timer(LatencyTimer)
    case recorder(LastValueRecorder)
    case floatingPointCounter(FloatingPointSum)
    /// One of a route's counts, kept in its recorder.
    case routeCount(RouteRecorder, RouteRecorder.Count)
    /// A route's latencies, kept in its recorder.
    case routeDuration(RouteRecorder)
  }

  /// Every metric by name, and the routes' recorders.
  struct Registry {
    var metrics: [MetricKey: Metric] = [:]
    var routes: [RouteID: RouteRecorder] = [:]

    /// The recorder of `side` and `route`, made on first use; nil when one of its metric
    /// names is already taken by a metric of its own (then the route is recorded through
    /// that metric, generically, and still counts once).
    mutating func recorder(
      side: MetricsMiddleware.Side,
      route: FiveTuple,
      format: LatencyFormat
    ) -> RouteRecorder? {
      let id = RouteID(side: side, route: route)
      if let known = routes[id] { return known }
      let keys = RouteRecorder.Keys(side: side, route: route)
      guard [keys.requests, keys.successes, keys.duration].allSatisfy({ metrics[$0] == nil })
      else { return nil }
      let recorder = RouteRecorder(keys, format: format)
      metrics[recorder.requestsKey] = .routeCount(recorder, .requests)
      metrics[recorder.successesKey] = .routeCount(recorder, .successes)
      metrics[recorder.durationKey] = .routeDuration(recorder)
      routes[id] = recorder
      return recorder
    }

    /// The route count a new counter named `key` is, if it names one of the middleware's
    /// counts with the dimensions the middleware gives it.
    mutating func routeCount(
      _ key: MetricKey,
      format: LatencyFormat
    ) -> (RouteRecorder, RouteRecorder.Count)? {
      typealias Label = MetricsMiddleware.Label
      guard [Label.requests, Label.successes, Label.errors].contains(key.label),
        let (side, route) = RouteDimensions.route(of: key),
        let recorder = recorder(side: side, route: route, format: format)
      else { return nil }
      switch key {
      case recorder.requestsKey: return (recorder, .requests)
      case recorder.successesKey: return (recorder, .successes)
      default:
        guard let kind = key[RouteDimensions.kind], key == recorder.errorsKey(kind: kind)
        else { return nil }
        metrics[key] = .routeCount(recorder, .errors(kind: kind))
        return (recorder, .errors(kind: kind))
      }
    }

    /// The recorder a new timer named `key` records into, if it names a route's duration.
    mutating func routeDuration(_ key: MetricKey, format: LatencyFormat) -> RouteRecorder? {
      guard key.label == MetricsMiddleware.Label.duration,
        let (side, route) = RouteDimensions.route(of: key),
        let recorder = recorder(side: side, route: route, format: format),
        key == recorder.durationKey
      else { return nil }
      return recorder
    }
  }

  /// A route and side, as the registry finds their recorder.
  struct RouteID: Hashable {
    var side: MetricsMiddleware.Side
    var route: FiveTuple
  }

  /// The recorder the metrics middleware of `side` records `route` into; nil when the route's
  /// metric names are taken by other kinds of metric (the middleware then records through
  /// swift-metrics).
  func recorder(side: MetricsMiddleware.Side, route: FiveTuple) -> RouteRecorder? {
    registry.withLock { $0.recorder(side: side, route: route, format: latencyFormat) }
  }

  // A metric asked for twice (same label and dimensions) is the same metric: two middlewares
  // on one route add to one count.
  private func metric(_ key: MetricKey, make: () -> Metric) -> Metric {
    registry.withLock { registry in
      if let existing = registry.metrics[key] { return existing }
      let made = make()
      registry.metrics[key] = made
      return made
    }
  }

  /// Creates (or returns) the counter of `label` and `dimensions`.
  public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
    let key = MetricKey(label, dimensions)
    return registry.withLock { registry -> any CounterHandler in
      switch registry.metrics[key] {
      case .counter(let counter): return counter
      case .routeCount(let recorder, let count): return RouteCounter(recorder, count)
      case nil:
        if let (recorder, count) = registry.routeCount(key, format: latencyFormat) {
          return RouteCounter(recorder, count)
        }
        let made = AtomicCounter(key)
        registry.metrics[key] = .counter(made)
        return made
      default: return AtomicCounter(key)  // The name is taken by another kind: counted, not read.
      }
    }
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
    return registry.withLock { registry -> any TimerHandler in
      switch registry.metrics[key] {
      case .timer(let timer): return timer
      case .routeDuration(let recorder): return RouteTimer(recorder)
      case nil:
        if let recorder = registry.routeDuration(key, format: latencyFormat) {
          return RouteTimer(recorder)
        }
        let made = LatencyTimer(key, format: latencyFormat)
        registry.metrics[key] = .timer(made)
        return made
      default: return LatencyTimer(key, format: latencyFormat)
      }
    }
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

  // A route's metrics are not forgotten: handles from swift-metrics share them with the
  // middleware, which records into them for as long as it serves the route.
  private func forget(_ key: MetricKey?) {
    guard let key else { return }
    _ = registry.withLock { $0.metrics.removeValue(forKey: key) }
  }

  /// Reads every metric: counters and meters as they stand, timers' latencies since the last
  /// reading (which starts the next interval).
  public func collect() -> MetricsReading {
    let (all, routes) = registry.withLock { (Array($0.metrics), Array($0.routes.values)) }
    var reading = MetricsReading()
    for recorder in routes { recorder.read(into: &reading) }
    for (key, metric) in all {
      switch metric {
      case .counter(let counter): reading.counters[key] = counter.value
      case .floatingPointCounter(let counter): reading.values[key] = counter.value
      case .meter(let meter): reading.values[key] = meter.value
      case .recorder(let recorder): reading.values[key] = recorder.value
      case .timer(let timer): reading.latencies[key] = timer.takeInterval()
      // Read with its recorder above; an error counter made but never counted reads 0.
      case .routeCount: reading.counters[key] = reading.counters[key] ?? 0
      case .routeDuration: break
      }
    }
    return reading
  }

  /// Bytes the aggregator's histograms take (the bound on memory per route).
  public var histogramBytes: Int {
    let (all, routes) = registry.withLock { (Array($0.metrics.values), Array($0.routes.values)) }
    return all.reduce(routes.reduce(0) { $0 + $1.footprintBytes }) { total, metric in
      guard case .timer(let timer) = metric else { return total }
      return total + timer.footprintBytes
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

/// How latencies are kept: microseconds from 1 to the configured highest, which longer ones
/// count as, at the configured precision, in the configured number of shards.
struct LatencyFormat: Sendable {
  let highest: UInt64
  let digits: SignificantDigits
  /// Histograms per timer or route.
  let shards: Int

  init(_ configuration: MetricsAggregator.Configuration) {
    highest = UInt64(max(2, configuration.highestLatency.nanoseconds / 1000))
    digits = configuration.significantDigits
    shards = configuration.shards > 0 ? configuration.shards : ShardIndex.defaultCount
  }

  func makeHistogram() -> Histogram<UInt32> {
    Histogram(
      lowestDiscernibleValue: 1,
      highestTrackableValue: highest,
      numberOfSignificantValueDigits: digits
    )
  }

  @inline(__always)
  func microseconds(_ nanoseconds: Int64) -> UInt64 {
    min(UInt64(max(1, nanoseconds / 1000)), highest)
  }
}

/// A timer: latencies in microseconds in a histogram per shard, read and restarted per
/// interval.
final class LatencyTimer: TimerHandler, Sendable {
  let key: MetricKey
  private let shards: Sharded<Histogram<UInt32>>
  private let format: LatencyFormat

  init(_ key: MetricKey, format: LatencyFormat) {
    self.key = key
    self.format = format
    shards = Sharded(count: format.shards, make: format.makeHistogram)
  }

  func recordNanoseconds(_ duration: Int64) {
    let microseconds = format.microseconds(duration)
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

/// Everything the metrics middleware records about one route on one side, per thread shard:
/// requests, successes, errors by kind and the interval's latencies.
///
/// A call touches only its thread's shard: an atomic add when it starts, and one lock, which
/// only threads sharing the shard ever take, when it ends. Keeping the route's counts and
/// histogram together costs one lookup per call where separate metric objects cost one each.
final class RouteRecorder: Sendable {
  /// Which of the route's counts a swift-metrics counter handle adds to.
  enum Count: Sendable, Hashable {
    case requests
    case successes
    case errors(kind: String)
  }

  /// What one shard holds.
  struct Shard: ~Copyable {
    /// Calls started: apart from the tally, so starting a call takes no lock.
    let requests = Atomic<Int64>(0)
    let tally: Mutex<Tally>

    init(_ format: LatencyFormat) { tally = Mutex(Tally(latencies: format.makeHistogram())) }
  }

  /// The ended calls one shard has seen.
  struct Tally {
    var successes: Int64 = 0
    /// By kind; a route fails in few ways, so a short list beats hashing the kind.
    var errors: [(kind: String, count: Int64)] = []
    var latencies: Histogram<UInt32>

    mutating func addError(_ kind: String, _ amount: Int64) {
      for index in errors.indices where errors[index].kind == kind {
        errors[index].count &+= amount
        return
      }
      errors.append((kind, amount))
    }
  }

  /// The names of a route's metrics.
  struct Keys {
    let dimensions: [(String, String)]
    let requests: MetricKey
    let successes: MetricKey
    let duration: MetricKey

    init(side: MetricsMiddleware.Side, route: FiveTuple) {
      typealias Label = MetricsMiddleware.Label
      dimensions = RouteDimensions.make(route: route, side: side)
      requests = MetricKey(Label.requests, dimensions)
      successes = MetricKey(Label.successes, dimensions)
      duration = MetricKey(Label.duration, dimensions)
    }
  }

  private let keys: Keys
  private let format: LatencyFormat
  private let shards: ShardSlots<Shard>

  init(_ keys: Keys, format: LatencyFormat) {
    self.keys = keys
    self.format = format
    shards = ShardSlots(count: format.shards) { Shard(format) }
  }

  var requestsKey: MetricKey { keys.requests }
  var successesKey: MetricKey { keys.successes }
  var durationKey: MetricKey { keys.duration }

  /// The key of the error counter of `kind`.
  func errorsKey(kind: String) -> MetricKey {
    MetricKey(MetricsMiddleware.Label.errors, keys.dimensions + [(RouteDimensions.kind, kind)])
  }

  /// A call started, on the thread of shard `shard`.
  @inline(__always)
  func started(shard: Int) {
    shards.withShard(shard) { _ = $0.requests.wrappingAdd(1, ordering: .relaxed) }
  }

  /// A call ended after `nanoseconds`, with an answer or an error of `errorKind`, on the
  /// thread of shard `shard`.
  @inline(__always)
  func ended(shard: Int, nanoseconds: Int64, errorKind: String?) {
    let microseconds = format.microseconds(nanoseconds)
    shards.withShard(shard) { slot in
      slot.tally.withLock { tally in
        _ = tally.latencies.record(microseconds)
        if let errorKind { tally.addError(errorKind, 1) } else { tally.successes &+= 1 }
      }
    }
  }

  /// Adds `amount` to one count: a swift-metrics counter handle's increment.
  func add(_ amount: Int64, to count: Count) {
    shards.withLocalShard { slot in
      switch count {
      case .requests: _ = slot.requests.wrappingAdd(amount, ordering: .relaxed)
      case .successes: slot.tally.withLock { $0.successes &+= amount }
      case .errors(let kind): slot.tally.withLock { $0.addError(kind, amount) }
      }
    }
  }

  /// Records one latency: a swift-metrics timer handle's record.
  func record(nanoseconds: Int64) {
    let microseconds = format.microseconds(nanoseconds)
    shards.withLocalShard { slot in
      slot.tally.withLock { _ = $0.latencies.record(microseconds) }
    }
  }

  /// Puts the route's counts (since start) and latencies (since the last reading, which
  /// starts the next interval) into `reading`.
  func read(into reading: inout MetricsReading) {
    var successes: Int64 = 0
    var errors: [String: Int64] = [:]
    var merged: Histogram<UInt32>?
    shards.forEachShard { slot in
      slot.tally.withLock { tally in
        successes &+= tally.successes
        for (kind, count) in tally.errors { errors[kind, default: 0] &+= count }
        if tally.latencies.totalCount > 0 {
          if merged == nil { merged = tally.latencies } else { merged?.add(tally.latencies) }
          tally.latencies.reset()
        }
      }
    }
    // Requests are read after the ended calls: a call counted as ended was counted as started
    // before, so calls in flight (requests minus ended) never read below zero.
    var requests: Int64 = 0
    shards.forEachShard { requests &+= $0.requests.load(ordering: .relaxed) }
    reading.counters[requestsKey] = requests
    reading.counters[successesKey] = successes
    for (kind, count) in errors { reading.counters[errorsKey(kind: kind)] = count }
    reading.latencies[durationKey] = merged.map { LatencySummary(microseconds: $0) } ?? .empty
  }

  /// Bytes the route's histograms take.
  var footprintBytes: Int {
    var total = 0
    shards.forEachShard { slot in
      slot.tally.withLock { total += $0.latencies.estimatedFootprintInBytes }
    }
    return total
  }
}

/// A swift-metrics counter handle onto one of a route's counts.
final class RouteCounter: CounterHandler, Sendable {
  private let recorder: RouteRecorder
  private let count: RouteRecorder.Count

  init(_ recorder: RouteRecorder, _ count: RouteRecorder.Count) {
    self.recorder = recorder
    self.count = count
  }

  func increment(by amount: Int64) { recorder.add(amount, to: count) }
  // A route's counts count since start, for every handle at once: not reset by one of them.
  func reset() {}
}

/// A swift-metrics timer handle onto a route's latencies.
final class RouteTimer: TimerHandler, Sendable {
  private let recorder: RouteRecorder

  init(_ recorder: RouteRecorder) { self.recorder = recorder }

  func recordNanoseconds(_ duration: Int64) { recorder.record(nanoseconds: duration) }
}
