import Synchronization

/// The embedded config store: everything in this process's memory, with revisions, prefix
/// watches and leases, so a mesh on one machine needs nothing installed.
///
/// Lease expiry needs time to pass: ``expireLeases()`` deletes what is due (tests call it after
/// moving their clock), and ``runExpiry(every:)`` does it periodically in a running process.
public final class MemoryConfigStore: ConfigStore {
  /// How many past changes are kept for watches that resume from a revision.
  public static let defaultHistoryLimit = 10_000
  /// How many changes a watch may have delivered but not yet taken before it is ended as
  /// ``ConfigStoreError/Code/compacted`` (its reader lists again): a stuck reader (a served
  /// watch whose client stopped reading) must not grow the store's memory without bound.
  public static let defaultMaxPendingChangesPerWatch = 10_000

  private struct Lease {
    var ttl: Duration
    var expiresAt: ContinuousClock.Instant
    var keys: Set<String> = []
  }

  private struct Watcher {
    var prefix: String
    var continuation: AsyncThrowingStream<ConfigChange, any Error>.Continuation
  }

  private struct State {
    var entries: [String: ConfigEntry] = [:]
    var revision: ConfigRevision = 0
    var history: [ConfigChange] = []
    var watchers: [Int: Watcher] = [:]
    var nextWatcher = 0
    var leases: [Int64: Lease] = [:]
    var nextLease: Int64 = 1
    /// Watches that fell too far behind, taken out of `watchers`, to be ended once the lock is
    /// released (ending one runs its termination handler, which takes the lock).
    var overflowed: [AsyncThrowingStream<ConfigChange, any Error>.Continuation] = []
  }

  private let state = Mutex(State())
  private let historyLimit: Int
  private let maxPendingChangesPerWatch: Int
  private let now: @Sendable () -> ContinuousClock.Instant

  /// Creates an empty store.
  ///
  /// - Parameters:
  ///   - historyLimit: Past changes kept for resuming watches.
  ///   - maxPendingChangesPerWatch: Changes a watch may hold for its reader before it is ended.
  ///   - now: The time leases expire by; tests pass a manual clock.
  public init(
    historyLimit: Int = MemoryConfigStore.defaultHistoryLimit,
    maxPendingChangesPerWatch: Int = MemoryConfigStore.defaultMaxPendingChangesPerWatch,
    now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
  ) {
    self.historyLimit = max(1, historyLimit)
    self.maxPendingChangesPerWatch = max(1, maxPendingChangesPerWatch)
    self.now = now
  }

  /// The value of `key`.
  public func get(_ key: String) async throws -> ConfigEntry? {
    state.withLock { $0.entries[key] }
  }

  /// Writes `key`.
  @discardableResult
  public func put(_ key: String, _ value: String, lease: LeaseID?) async throws -> ConfigRevision {
    guard !key.isEmpty else { throw ConfigStoreError(.invalidArgument, "the key is empty") }
    return try mutate { state throws(ConfigStoreError) in
      if let lease {
        guard state.leases[lease.rawValue] != nil else {
          throw ConfigStoreError(.leaseNotFound, "lease \(lease) does not exist")
        }
        state.leases[lease.rawValue]?.keys.insert(key)
      }
      if let old = state.entries[key]?.lease, old != lease {
        state.leases[old.rawValue]?.keys.remove(key)
      }
      state.revision += 1
      state.entries[key] = ConfigEntry(
        key: key,
        value: value,
        revision: state.revision,
        lease: lease
      )
      record(ConfigChange(kind: .put, key: key, value: value, revision: state.revision), in: &state)
      return state.revision
    }
  }

  /// Deletes `key`.
  @discardableResult
  public func delete(_ key: String) async throws -> Bool {
    mutate { state in remove(key, in: &state) }
  }

  /// Every key under `prefix`, in key order.
  public func list(prefix: String) async throws -> (
    entries: [ConfigEntry], revision: ConfigRevision
  ) {
    state.withLock { state in
      let entries = state.entries.values.filter { $0.key.hasPrefix(prefix) }.sorted {
        $0.key < $1.key
      }
      return (entries, state.revision)
    }
  }

  /// The changes under `prefix` after `revision`.
  public func watch(prefix: String, after revision: ConfigRevision?)
    -> AsyncThrowingStream<ConfigChange, any Error>
  {
    let (stream, continuation) = AsyncThrowingStream<ConfigChange, any Error>.makeStream(
      bufferingPolicy: .bufferingOldest(maxPendingChangesPerWatch)
    )
    let id = state.withLock { state -> Int in
      if let revision {
        // Replay what the watcher missed, or say it is gone.
        let oldest = state.history.first?.revision ?? state.revision + 1
        if revision + 1 < oldest && revision < state.revision {
          continuation.finish(
            throwing: ConfigStoreError(
              .compacted,
              "revision \(revision) is older than the \(historyLimit) changes kept; list again"
            )
          )
          return -1
        }
        for change in state.history where change.revision > revision && change.key.hasPrefix(prefix)
        {
          if case .dropped = continuation.yield(change) {
            continuation.finish(throwing: fellBehind)
            return -1
          }
        }
      }
      let id = state.nextWatcher
      state.nextWatcher += 1
      state.watchers[id] = Watcher(prefix: prefix, continuation: continuation)
      return id
    }
    if id >= 0 {
      continuation.onTermination = { [weak self] _ in
        _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
      }
    }
    return stream
  }

  /// Grants a lease.
  public func grantLease(ttl: Duration) async throws -> LeaseID {
    guard ttl >= .seconds(1) else {
      throw ConfigStoreError(.invalidArgument, "a lease's TTL must be at least 1 s, not \(ttl)")
    }
    let expiresAt = now() + ttl
    return state.withLock { state in
      let id = state.nextLease
      state.nextLease += 1
      state.leases[id] = Lease(ttl: ttl, expiresAt: expiresAt)
      return LeaseID(id)
    }
  }

  /// Renews a lease.
  public func keepAlive(_ lease: LeaseID) async throws {
    _ = try renewLease(lease)
  }

  /// Renews a lease and returns its TTL (what etcd's keep-alive answers with, so the served
  /// store can too).
  ///
  /// - Throws: ``ConfigStoreError/Code/leaseNotFound`` when it already expired.
  public func renewLease(_ lease: LeaseID) throws(ConfigStoreError) -> Duration {
    let now = self.now()
    return try state.withLock { state throws(ConfigStoreError) in
      guard let current = state.leases[lease.rawValue], current.expiresAt > now else {
        throw ConfigStoreError(.leaseNotFound, "lease \(lease) expired or was revoked")
      }
      state.leases[lease.rawValue]?.expiresAt = now + current.ttl
      return current.ttl
    }
  }

  /// The revision of the latest change (0 before the first), and the newest revision whose
  /// change is no longer kept for watches (0 while every change is kept): what a served store
  /// reports in its answers' headers and when a watch asks for too old a revision.
  public var revisions: (current: ConfigRevision, compacted: ConfigRevision) {
    state.withLock { state in
      (state.revision, (state.history.first?.revision ?? state.revision + 1) - 1)
    }
  }

  /// Ends a lease, deleting its keys.
  public func revokeLease(_ lease: LeaseID) async throws {
    try mutate { state throws(ConfigStoreError) in
      guard let ended = state.leases.removeValue(forKey: lease.rawValue) else {
        throw ConfigStoreError(.leaseNotFound, "lease \(lease) expired or was revoked")
      }
      for key in ended.keys.sorted() { remove(key, in: &state) }
    }
  }

  /// Deletes the keys of every lease whose TTL passed without a keep-alive.
  public func expireLeases() {
    let now = self.now()
    mutate { state in
      let due = state.leases.filter { $0.value.expiresAt <= now }.keys.sorted()
      for id in due {
        guard let ended = state.leases.removeValue(forKey: id) else { continue }
        for key in ended.keys.sorted() { remove(key, in: &state) }
      }
    }
  }

  /// Expires leases every `interval` until the task is cancelled.
  public func runExpiry(every interval: Duration = .milliseconds(100)) async {
    while !Task.isCancelled {
      expireLeases()
      try? await Task.sleep(for: interval)
    }
  }

  @discardableResult
  private func remove(_ key: String, in state: inout State) -> Bool {
    guard let old = state.entries.removeValue(forKey: key) else { return false }
    if let lease = old.lease { state.leases[lease.rawValue]?.keys.remove(key) }
    state.revision += 1
    record(ConfigChange(kind: .delete, key: key, value: "", revision: state.revision), in: &state)
    return true
  }

  private func record(_ change: ConfigChange, in state: inout State) {
    state.history.append(change)
    if state.history.count > historyLimit {
      state.history.removeFirst(state.history.count - historyLimit)
    }
    for (id, watcher) in state.watchers where change.key.hasPrefix(watcher.prefix) {
      if case .dropped = watcher.continuation.yield(change) {
        state.watchers.removeValue(forKey: id)
        state.overflowed.append(watcher.continuation)
      }
    }
  }

  /// Changes the state under the lock, then ends the watches that fell behind meanwhile,
  /// outside it (ending a watch runs its termination handler, which takes the lock).
  private func mutate<T: Sendable, E: Error>(
    _ body: (inout State) throws(E) -> T
  ) throws(E) -> T {
    let (result, overflowed) = try state.withLock { state throws(E) in
      let result = try body(&state)
      defer { state.overflowed = [] }
      return (result, state.overflowed)
    }
    for continuation in overflowed { continuation.finish(throwing: fellBehind) }
    return result
  }

  /// Why a watch that fell too far behind ended.
  private var fellBehind: ConfigStoreError {
    ConfigStoreError(
      .compacted,
      "the watch fell more than \(maxPendingChangesPerWatch) changes behind; list again"
    )
  }
}
