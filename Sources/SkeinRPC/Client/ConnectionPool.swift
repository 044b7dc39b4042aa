import NIOCore
import SkeinThrift
import Synchronization

/// The connections to one server instance: opened lazily, shared by many calls at once
/// (multiplexed by sequence id), reopened after failures with exponential backoff, and
/// bounded: more than ``RPCClient/Configuration/maxPendingCallsPerInstance`` calls at once is
/// an ``RPCError/Code/overloaded`` error rather than an ever-growing queue.
final class ConnectionPool: Sendable {
  let address: InstanceAddress
  private let configuration: RPCClient.Configuration
  private let group: any EventLoopGroup
  private let state = Mutex(State())

  private struct State {
    var connections: [ClientConnection] = []
    /// The connection being opened, which calls without a connection wait for.
    var connecting: Task<ClientConnection, any Error>?
    /// Calls admitted and not yet finished.
    var pending = 0
    /// No new connection is attempted before this, after a failure.
    var retryAt: ContinuousClock.Instant?
    var backoff = Backoff(
      initial: ConnectionPool.initialBackoff,
      maximum: ConnectionPool.maxBackoff
    )
    var lastError: RPCError?
    var isClosed = false
  }

  /// Fresh connections a request that was never sent may try, after the pool's own.
  static let freshTries = 3

  /// The first wait after a failed connect; it doubles up to ``maxBackoff``.
  static let initialBackoff: Duration = .milliseconds(50)
  /// The longest wait between connection attempts.
  static let maxBackoff: Duration = .seconds(5)

  init(address: InstanceAddress, configuration: RPCClient.Configuration, group: any EventLoopGroup)
  {
    self.address = address
    self.configuration = configuration
    self.group = group
  }

  /// Runs `body` with a connection, counting the call against the pool's bound.
  nonisolated(nonsending) func withConnection<T>(
    _ body: nonisolated(nonsending) (ClientConnection) async throws -> T
  ) async throws -> T {
    // A connection that closed as it was handed out (idle just before the call could claim
    // it, or by the peer) never sent the request, so another takes it: as many times as the
    // pool has connections (several may have gone together), then on up to ``freshTries``
    // fresh ones (a stall of the machine longer than the idle timeout can let even a new one
    // close idle before its caller claims it).
    var tries = state.withLock { $0.connections.count } + Self.freshTries
    while true {
      do {
        return try await withAcquired(body)
      } catch let notSent as RequestNotSent {
        tries -= 1
        guard tries > 0 else { throw RPCError(.transport, notSent.description) }
      }
    }
  }

  private nonisolated(nonsending) func withAcquired<T>(
    _ body: nonisolated(nonsending) (ClientConnection) async throws -> T
  ) async throws -> T {
    let connection = try await acquire()
    defer {
      connection.release()
      state.withLock { $0.pending -= 1 }
    }
    do {
      return try await body(connection)
    } catch let notSent as RequestNotSent {
      // The connection is closing though it may still look active: no call gets it again,
      // so the re-send takes another one (or opens one).
      state.withLock { $0.connections.removeAll { $0 === connection } }
      throw notSent
    }
  }

  /// What the caller gets: a live connection now, or one being opened to wait for.
  private enum Choice {
    case ready(ClientConnection)
    case wait(Task<ClientConnection, any Error>)
  }

  /// A connection the caller has claimed (see ``ClientConnection/claim()``), counted as pending.
  private nonisolated(nonsending) func acquire() async throws -> ClientConnection {
    let choice = try state.withLock { state throws(RPCError) -> Choice in
      if state.isClosed { throw RPCError(.shutdown, "the client was shut down") }
      if state.pending >= configuration.maxPendingCallsPerInstance {
        throw RPCError(
          .overloaded,
          "\(state.pending) calls already pending on \(address) (maxPendingCallsPerInstance = \(configuration.maxPendingCallsPerInstance))"
        )
      }
      state.connections.removeAll { !$0.isActive }
      let best = state.connections.min { $0.load < $1.load }
      let canGrow = state.connections.count < configuration.connectionsPerInstance
      if let best, best.load < configuration.callsPerConnectionBeforeGrowing || !canGrow {
        state.pending += 1
        return .ready(best)
      }
      if let connecting = state.connecting {
        state.pending += 1
        return best.map(Choice.ready) ?? .wait(connecting)
      }
      if let retryAt = state.retryAt, retryAt > .now {
        if let best {
          state.pending += 1
          return .ready(best)
        }
        let reason = state.lastError?.message ?? "connect failed"
        throw RPCError(.connectFailed, "\(reason) (next attempt in \(retryAt - .now))")
      }
      let task = Task { try await self.connect() }
      state.connecting = task
      state.pending += 1
      return best.map(Choice.ready) ?? .wait(task)
    }
    let connection: ClientConnection
    switch choice {
    case .ready(let ready):
      connection = ready
    case .wait(let task):
      do {
        connection = try await task.value
      } catch {
        state.withLock { $0.pending -= 1 }
        throw error
      }
    }
    guard connection.claim() else {
      state.withLock { state in
        state.pending -= 1
        state.connections.removeAll { $0 === connection }
      }
      throw RequestNotSent(address: address, reason: "the connection closed idle")
    }
    return connection
  }

  /// Opens a connection and records the outcome for everyone.
  private func connect() async throws -> ClientConnection {
    do {
      let connection = try await ClientConnection.connect(
        to: address,
        group: group,
        connectTimeout: configuration.connectTimeout,
        idleTimeout: configuration.idleTimeout,
        limits: configuration.limits
      )
      let keep = state.withLock { state in
        state.connecting = nil
        state.retryAt = nil
        state.backoff.reset()
        state.lastError = nil
        guard !state.isClosed else { return false }
        state.connections.append(connection)
        return true
      }
      if !keep {
        connection.close()
        throw RPCError(.shutdown, "the client was shut down")
      }
      return connection
    } catch let error as RPCError {
      state.withLock { state in
        state.connecting = nil
        state.retryAt = .now + state.backoff.next()
        state.lastError = error
      }
      throw error
    }
  }

  /// Open connections and calls admitted, for metrics and tests.
  var load: (connections: Int, pendingCalls: Int) {
    state.withLock { state in
      (state.connections.filter(\.isActive).count, state.pending)
    }
  }

  /// Closes every connection; later calls fail with ``RPCError/Code/shutdown``.
  func close() async {
    let (connections, connecting) = state.withLock { state in
      state.isClosed = true
      defer { state.connections.removeAll() }
      return (state.connections, state.connecting)
    }
    if let connection = try? await connecting?.value { connection.close() }
    for connection in connections { connection.close() }
    for connection in connections { try? await connection.channel.closeFuture.get() }
  }
}
