import SkeinRPC

/// A store revision: every change gets the next one, so watchers can resume where they left
/// off and tell old values from new.
public typealias ConfigRevision = Int64

/// A lease: keys put under it disappear when it expires (an instance's registration, say).
public struct LeaseID: Sendable, Hashable, CustomStringConvertible {
  /// The store's id for the lease.
  public var rawValue: Int64

  /// Wraps a store's lease id.
  public init(_ rawValue: Int64) { self.rawValue = rawValue }

  /// The id in decimal.
  public var description: String { String(rawValue) }
}

/// One key and its value as stored.
public struct ConfigEntry: Sendable, Hashable {
  /// The key (`/skein/governance/…`).
  public var key: String
  /// The value, a small document (JSON for governance keys).
  public var value: String
  /// The revision of the change that last wrote the key.
  public var revision: ConfigRevision
  /// The lease the key lives under, if any.
  public var lease: LeaseID?

  /// Creates an entry.
  public init(key: String, value: String, revision: ConfigRevision, lease: LeaseID? = nil) {
    self.key = key
    self.value = value
    self.revision = revision
    self.lease = lease
  }
}

/// A change a watcher sees.
public struct ConfigChange: Sendable, Hashable {
  /// What happened to the key.
  public enum Kind: String, Sendable, Hashable {
    /// The key was written.
    case put
    /// The key was deleted, or its lease expired.
    case delete
  }

  /// What happened.
  public var kind: Kind
  /// The key.
  public var key: String
  /// The new value; empty for a delete.
  public var value: String
  /// The revision of the change.
  public var revision: ConfigRevision

  /// Creates a change.
  public init(kind: Kind, key: String, value: String, revision: ConfigRevision) {
    self.kind = kind
    self.key = key
    self.value = value
    self.revision = revision
  }
}

/// Why a store operation failed.
public struct ConfigStoreError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A stable code.
  public enum Code: String, Sendable, Hashable {
    /// The store could not be reached.
    case unavailable
    /// The lease does not exist (expired or revoked).
    case leaseNotFound = "lease_not_found"
    /// The request was malformed (an empty key, a TTL below one second).
    case invalidArgument = "invalid_argument"
    /// A watch asked for history the store no longer keeps.
    case compacted
    /// The store does not know who is asking: no token or credentials, wrong ones, or ones
    /// that expired and could not be renewed.
    case unauthenticated
    /// The store knows who is asking and refuses the operation (a read-only user's write).
    case permissionDenied = "permission_denied"
  }

  /// The code.
  public var code: Code
  /// What happened, for a person.
  public var message: String

  /// Creates an error.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// `code: message`.
  public var description: String { "\(code.rawValue): \(message)" }
}

/// Where governance switches and the registry live: the embedded memory store or etcd, behind
/// one contract (the same tests run against both).
///
/// Keys are strings, values small documents. Every change gets a revision; a watch delivers
/// the changes under a prefix in revision order, from a given revision on.
public protocol ConfigStore: Sendable {
  /// The value of `key`, or `nil`.
  func get(_ key: String) async throws -> ConfigEntry?

  /// Writes `key`, under `lease` if given; returns the change's revision.
  @discardableResult
  func put(_ key: String, _ value: String, lease: LeaseID?) async throws -> ConfigRevision

  /// Deletes `key`; returns whether it existed.
  @discardableResult
  func delete(_ key: String) async throws -> Bool

  /// Every key starting with `prefix`, in key order, and the store's current revision.
  func list(prefix: String) async throws -> (entries: [ConfigEntry], revision: ConfigRevision)

  /// The changes under `prefix` after `revision` (all new ones when `nil`), until the task is
  /// cancelled. A watch that cannot go on (the store went away) ends with an error; the caller
  /// lists again and watches from the listed revision.
  func watch(prefix: String, after revision: ConfigRevision?) -> AsyncThrowingStream<
    ConfigChange, any Error
  >

  /// Grants a lease that expires `ttl` after its last keep-alive.
  func grantLease(ttl: Duration) async throws -> LeaseID

  /// Renews a lease for another TTL.
  ///
  /// - Throws: ``ConfigStoreError/Code/leaseNotFound`` when it already expired.
  func keepAlive(_ lease: LeaseID) async throws

  /// Ends a lease now, deleting its keys.
  func revokeLease(_ lease: LeaseID) async throws
}

extension ConfigStore {
  /// Writes `key` without a lease.
  @discardableResult
  public func put(_ key: String, _ value: String) async throws -> ConfigRevision {
    try await put(key, value, lease: nil)
  }
}

/// What ``ConfigStore/follow(prefix:onError:)`` reports: the whole prefix, then each change.
public enum ConfigUpdate: Sendable, Hashable {
  /// Everything under the prefix now; what was known before is void.
  case reset([ConfigEntry])
  /// One key changed.
  case changed(ConfigChange)
}

extension ConfigStore {
  /// Lists `prefix`, then follows its changes until the task is cancelled. When the store
  /// fails, `onError` hears why and, after a backoff, the prefix is listed again (a
  /// ``ConfigUpdate/reset(_:)``) and followed from there: a store restart loses nothing, and
  /// the caller keeps what it knew while the store is away.
  public func follow(
    prefix: String,
    onError: @escaping @Sendable (any Error) -> Void = { _ in }
  ) -> AsyncStream<ConfigUpdate> {
    AsyncStream { continuation in
      let task = Task {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
        while !Task.isCancelled {
          do {
            let (entries, revision) = try await list(prefix: prefix)
            continuation.yield(.reset(entries))
            backoff.reset()
            for try await change in watch(prefix: prefix, after: revision) {
              continuation.yield(.changed(change))
            }
          } catch is CancellationError {
            break
          } catch {
            if Task.isCancelled { break }
            onError(error)
          }
          try? await Task.sleep(for: backoff.next())
        }
        continuation.finish()
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// Mirrors `prefix` into the caller's state until the task is cancelled: on every listing,
  /// `reset` and then `apply` for each key; on every change, `apply` (a `nil` value: deleted).
  public func mirror(
    prefix: String,
    onError: @escaping @Sendable (any Error) -> Void = { _ in },
    reset: () -> Void,
    apply: (_ key: String, _ value: String?) -> Void
  ) async {
    for await update in follow(prefix: prefix, onError: onError) {
      switch update {
      case .reset(let entries):
        reset()
        for entry in entries { apply(entry.key, entry.value) }
      case .changed(let change):
        apply(change.key, change.kind == .put ? change.value : nil)
      }
    }
  }
}
