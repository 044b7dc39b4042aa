import Foundation
public import SkeinGovernance
public import SkeinHTTP
import SkeinMesh
import SkeinMetrics
import SkeinRPC
import Synchronization

/// The dashboard on a terminal: follows the mesh (node snapshots found through the registry,
/// governance and fault keys from the store), draws it, and turns keys into store writes.
///
/// Threads: ncurses is not thread-safe, so every curses call happens on one thread of the
/// dashboard's own, which also owns the ``DashboardState``; the async side (HTTP, the store)
/// hands it data through an inbox and takes its writes from an outbox.
public final class Dashboard: Sendable {
  /// How the dashboard looks and where it runs.
  public struct Options: Sendable {
    /// The header's facts and what the keys may change.
    public var setup: DashboardState.Setup
    /// The theme to start with.
    public var themeName: String
    /// Draw ASCII only.
    public var ascii: Bool
    /// The token the nodes' admin endpoints ask for, when they listen beyond loopback.
    public var adminToken: AccessToken?

    /// Options.
    public init(
      setup: DashboardState.Setup,
      themeName: String = "default",
      ascii: Bool = false,
      adminToken: AccessToken? = nil
    ) {
      self.setup = setup
      self.themeName = themeName
      self.ascii = ascii
      self.adminToken = adminToken
    }
  }

  /// What the async side hands the terminal thread.
  enum Inbound: Sendable {
    case stats(MeshStats)
    case config(ConfigUpdate, prefix: String)
    case event(DashboardEvent)
  }

  private let store: any ConfigStore
  private let options: Options
  private let catalog: ThemeCatalog
  private let inbox = Mutex<[Inbound]>([])

  /// The prefixes of the keys the dashboard shows and changes.
  static let prefixes = [GovernanceSwitch.root + "/", InstanceFault.root + "/"]
  /// How long the terminal thread waits for a key before it looks at new data.
  static let keyWait: Int32 = 100

  /// A dashboard on `store` (its registry lists the nodes).
  public init(store: any ConfigStore, options: Options, catalog: ThemeCatalog) {
    self.store = store
    self.options = options
    self.catalog = catalog
  }

  /// Runs until the person quits (`q`, Ctrl-C) or the task is cancelled.
  ///
  /// - Throws: ``TerminalError`` when the terminal cannot be driven.
  public func run() async throws {
    let (writes, writer) = AsyncStream.makeStream(of: DashboardCommand.self)
    let refresh = Duration.milliseconds(Int64(options.setup.refreshSeconds * 1000))
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { await self.followNodes(every: refresh) }
      for prefix in Self.prefixes {
        group.addTask { await self.follow(prefix) }
      }
      group.addTask { await self.perform(writes) }
      group.addTask {
        try await self.runTerminal(writer)
        writer.finish()
      }
      // The terminal thread ends the dashboard; the followers run until then.
      try await group.next()
      group.cancelAll()
    }
  }

  // MARK: The async side

  private func followNodes(every interval: Duration) async {
    let registry = Registry(store: store)
    let admins = registry.watchAll().map { instances in
      instances.compactMap(\.adminAddress)
    }
    await MeshStatsClient(token: options.adminToken).watch(admins, every: interval) { stats in
      self.inbox.withLock { $0.append(.stats(stats)) }
    }
  }

  private func follow(_ prefix: String) async {
    let updates = store.follow(prefix: prefix) { error in
      let event = DashboardEvent(
        time: Date(),
        kind: .rejected,
        message: "config store: \(error); retrying",
        severe: true
      )
      self.inbox.withLock { $0.append(.event(event)) }
    }
    for await update in updates {
      inbox.withLock { $0.append(.config(update, prefix: prefix)) }
    }
  }

  /// Writes the keys the person changed, exactly as `skein ctl` would.
  private func perform(_ writes: AsyncStream<DashboardCommand>) async {
    for await command in writes {
      do {
        switch command {
        case .put(let key, let value): try await store.put(key, value)
        case .delete(let key): try await store.delete(key)
        default: continue
        }
      } catch {
        let event = DashboardEvent(
          time: Date(),
          kind: .rejected,
          message: "could not write \(command): \(error)",
          severe: true
        )
        inbox.withLock { $0.append(.event(event)) }
      }
    }
  }

  // MARK: The terminal thread

  /// Runs the terminal loop on a thread of its own and returns when it ends.
  private func runTerminal(_ writer: AsyncStream<DashboardCommand>.Continuation) async throws {
    let outcome: Result<Void, TerminalError> = await withCheckedContinuation { done in
      let thread = Thread { done.resume(returning: self.terminalLoop(writer)) }
      thread.name = "skein-dashboard"
      thread.start()
    }
    try outcome.get()
  }

  /// The loop: take in data, draw when something changed (or the clock's second did), wait
  /// briefly for a key, act on it.
  private func terminalLoop(_ writer: AsyncStream<DashboardCommand>.Continuation) -> Result<
    Void, TerminalError
  > {
    var theme = catalog.theme(named: options.themeName) ?? catalog.defaultTheme
    let terminal: CursesTerminal
    do {
      terminal = try CursesTerminal(theme: theme, forceASCII: options.ascii)
    } catch {
      return .failure(error)
    }
    defer { terminal.close() }
    let layout = DashboardLayout(glyphs: terminal.unicode ? .unicode : .ascii)
    var state = DashboardState(setup: options.setup)
    state.themeName = theme.name
    for problem in catalog.problems {
      state.record(
        DashboardEvent(time: Date(), kind: .rejected, message: "\(problem)", severe: true)
      )
    }
    var dirty = true
    var drawnSecond = 0
    while true {
      let arrived = inbox.withLock { inbox in
        defer { inbox.removeAll(keepingCapacity: true) }
        return inbox
      }
      let now = Date()
      for item in arrived {
        switch item {
        case .stats(let stats): state.ingest(stats, at: now)
        case .config(let update, let prefix): state.ingest(update, under: prefix, at: now)
        case .event(let event): state.record(event)
        }
      }
      dirty = dirty || !arrived.isEmpty
      let (width, height) = terminal.size
      state.pageRows = DashboardLayout.pageRows(height: height, detailOpen: state.detailOpen)
      let second = Int(now.timeIntervalSince1970)
      if dirty || second != drawnSecond {
        terminal.draw(layout.render(state, width: width, height: height, now: now))
        dirty = false
        drawnSecond = second
      }
      guard let key = terminal.nextKey(timeout: Self.keyWait) else { continue }
      dirty = true
      for command in state.handle(key) {
        switch command {
        case .quit: return .success(())
        case .nextTheme:
          theme = catalog.theme(after: theme.name)
          terminal.setTheme(theme)
          state.themeName = theme.name
        case .put, .delete: writer.yield(command)
        }
      }
    }
  }
}
