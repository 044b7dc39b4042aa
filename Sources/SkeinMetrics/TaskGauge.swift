import Synchronization

/// A node's live tasks and their peak since start: the Swift analogue of watching a Go
/// service's goroutines. A count that climbs and stays up is the early warning of calls piling
/// up behind something slow, before latency or memory show it.
///
/// Calls count while they run (the metrics middleware enters and leaves for each, on both
/// sides); long-lived background work counts through ``track(_:)``.
///
/// The count is kept per thread shard, each in its own cache lines, so cores counting calls at
/// once never contend for one counter. The peak is therefore sampled: it is the highest total
/// seen whenever a shard reaches a new high of its own, and whenever the gauge is read. A
/// count that climbs raises some shard's high, so a pile-up shows; a brief peak made of shards
/// that each stayed within their earlier highs can be missed.
public final class TaskGauge: Sendable {
  /// The process's gauge.
  public static let process = TaskGauge()

  /// One shard: its live count, and the highest it reached.
  struct Shard: ~Copyable {
    let live = Atomic<Int>(0)
    let high = Atomic<Int>(0)
  }

  private let shards = ShardSlots { Shard() }
  private let peakCount = Atomic<Int>(0)

  /// Creates a gauge at zero.
  public init() {}

  /// Tasks running now.
  public var live: Int {
    var total = 0
    shards.forEachShard { total &+= $0.live.load(ordering: .relaxed) }
    return total
  }

  /// The most that ran at once since start, as sampled (see ``TaskGauge``).
  public var peak: Int {
    raisePeak(to: live)
    return peakCount.load(ordering: .relaxed)
  }

  /// One more task runs.
  public func enter() {
    enter(shard: ShardIndex.current)
  }

  /// One task ended.
  ///
  /// A task that ends on another thread than it entered on leaves another shard: the live
  /// count stays exact, but that shard's high no longer follows its own tasks, and the peak
  /// is sampled more often than it needs. ``track(_:)`` leaves where it entered.
  public func leave() {
    leave(shard: ShardIndex.current)
  }

  /// One more task runs, counted on `shard`; the same task's ``leave(shard:)`` names the same
  /// shard, so no shard's count goes below zero and its high stays meaningful.
  ///
  /// - Parameter shard: The caller's ``ShardIndex/current``.
  @inline(__always)
  func enter(shard: Int) {
    let raised = shards.withShard(shard) { counts -> Bool in
      let now = counts.live.wrappingAdd(1, ordering: .relaxed).newValue
      // Only a new high of this shard does more than the add: rare once calls flow steadily.
      guard now > counts.high.load(ordering: .relaxed) else { return false }
      counts.high.store(now, ordering: .relaxed)
      return true
    }
    if raised { raisePeak(to: live) }
  }

  /// One task ended, counted off `shard`, the shard its ``enter(shard:)`` named.
  @inline(__always)
  func leave(shard: Int) {
    shards.withShard(shard) { _ = $0.live.wrappingSubtract(1, ordering: .relaxed) }
  }

  private func raisePeak(to now: Int) {
    var peak = peakCount.load(ordering: .relaxed)
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

  /// Runs `body` counted as a live task.
  public func track<Result>(_ body: () async throws -> Result) async rethrows -> Result {
    let shard = ShardIndex.current
    enter(shard: shard)
    defer { leave(shard: shard) }
    return try await body()
  }
}
