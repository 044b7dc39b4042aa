/// Exponential backoff: the wait after each failure in a row doubles, from `initial` up to
/// `maximum`, and a success starts it over. One type for every retry loop (connections, config
/// store watches), so they all back off the same way.
public struct Backoff: Sendable, Hashable {
  /// The wait after the first failure.
  public let initial: Duration
  /// The longest wait.
  public let maximum: Duration
  /// The wait chosen after the latest failure; `nil` when the last attempt succeeded.
  public private(set) var current: Duration?

  /// Creates a backoff that has seen no failure.
  public init(initial: Duration, maximum: Duration) {
    self.initial = initial
    self.maximum = max(initial, maximum)
  }

  /// Records a failure and returns how long to wait before the next attempt.
  public mutating func next() -> Duration {
    let wait = current.map { min($0 * 2, maximum) } ?? initial
    current = wait
    return wait
  }

  /// Records a success: the next failure waits `initial` again.
  public mutating func reset() {
    current = nil
  }
}
