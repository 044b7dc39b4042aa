#if canImport(Glibc)
  import Glibc
#endif

/// Wall-clock nanoseconds per iteration of `body`, best of `rounds` after a warm-up round, so
/// a noisy neighbour on a shared machine inflates the figure less.
func nanosecondsPerIteration(
  iterations: Int,
  rounds: Int = 5,
  _ body: (Int) throws -> Void
) rethrows -> Double {
  try body(max(1, iterations / 10))
  var best = Double.infinity
  for _ in 0..<rounds {
    let start = ContinuousClock.now
    try body(iterations)
    best = min(best, nanoseconds(ContinuousClock.now - start) / Double(iterations))
  }
  return best
}

/// The same for an asynchronous body.
func nanosecondsPerIteration(
  iterations: Int,
  rounds: Int = 5,
  _ body: (Int) async throws -> Void
) async rethrows -> Double {
  try await body(max(1, iterations / 10))
  var best = Double.infinity
  for _ in 0..<rounds {
    let start = ContinuousClock.now
    try await body(iterations)
    best = min(best, nanoseconds(ContinuousClock.now - start) / Double(iterations))
  }
  return best
}

/// A duration in nanoseconds, as a `Double` for ratios.
func nanoseconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

/// Keeps a value alive so the optimizer cannot drop the work that made it.
@inline(never)
func blackHole<T>(_ value: T) {
  withExtendedLifetime(value) {}
}

/// Megabytes per second for `bytes` processed every `nanoseconds`.
func megabytesPerSecond(bytes: Int, nanoseconds: Double) -> Double {
  Double(bytes) / nanoseconds * 1e9 / 1e6
}

/// Formats a number with a fixed count of decimals.
func fixed(_ value: Double, _ decimals: Int = 1) -> String {
  var scale = 1.0
  for _ in 0..<decimals { scale *= 10 }
  let rounded = (value * scale).rounded() / scale
  var text = "\(rounded)"
  if decimals == 0, text.hasSuffix(".0") { text.removeLast(2) }
  return text
}

/// Pads `text` on the left to `width` characters.
func padded(_ text: String, _ width: Int) -> String {
  String(repeating: " ", count: max(0, width - text.count)) + text
}
