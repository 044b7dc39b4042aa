import Synchronization

/// A node's live tasks and their peak since start: the Swift analogue of watching a Go
/// service's goroutines. A count that climbs and stays up is the early warning of calls piling
/// up behind something slow, before latency or memory show it.
///
/// Calls count while they run (the metrics middleware enters and leaves for each, on both
/// sides); long-lived background work counts through ``track(_:)``.
public final class TaskGauge: Sendable {
  /// The process's gauge.
  public static let process = TaskGauge()

  private let liveCount = Atomic<Int>(0)
  private let peakCount = Atomic<Int>(0)

  /// Creates a gauge at zero.
  public init() {}

  /// Tasks running now.
  public var live: Int { liveCount.load(ordering: .relaxed) }

  /// The most that ran at once since start.
  public var peak: Int { peakCount.load(ordering: .relaxed) }

  /// One more task runs.
  public func enter() {
    let now = liveCount.wrappingAdd(1, ordering: .relaxed).newValue
    var peak = peakCount.load(ordering: .relaxed)
    // Only a new high writes: the common case is one load.
    while now > peak {
      let (exchanged, original) = peakCount.weakCompareExchange(
        expected: peak,
        desired: now,
        ordering: .relaxed
      )
      if exchanged { return }
      peak = original
    }
  }

  /// One task ended.
  public func leave() {
    liveCount.wrappingSubtract(1, ordering: .relaxed)
  }

  /// Runs `body` counted as a live task.
  public func track<Result>(_ body: () async throws -> Result) async rethrows -> Result {
    enter()
    defer { leave() }
    return try await body()
  }
}
