import Synchronization

/// Counts calls running at once and makes the next one wait while the limit is reached.
@usableFromInline
final class CallLimiter: Sendable {
  private struct State {
    var running = 0
    var waiting: [CheckedContinuation<Void, Never>] = []
  }

  private let limit: Int
  private let state = Mutex(State())

  @usableFromInline
  init(limit: Int) {
    self.limit = max(1, limit)
  }

  /// Takes a slot, waiting for one to free up when all are taken.
  @usableFromInline
  func acquire() async {
    let admitted = state.withLock { state in
      guard state.running < limit else { return false }
      state.running += 1
      return true
    }
    if admitted { return }
    await withCheckedContinuation { continuation in
      let admittedNow = state.withLock { state in
        // A slot may have freed up between the two locks.
        guard state.running < limit else {
          state.waiting.append(continuation)
          return false
        }
        state.running += 1
        return true
      }
      if admittedNow { continuation.resume() }
    }
  }

  /// Frees a slot, handing it straight to the longest waiter if there is one.
  @usableFromInline
  func release() {
    let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
      if state.waiting.isEmpty {
        state.running -= 1
        return nil
      }
      // The slot passes to the waiter: `running` stays the same.
      return state.waiting.removeFirst()
    }
    next?.resume()
  }
}
