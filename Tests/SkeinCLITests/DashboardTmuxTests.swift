import Foundation
import SkeinTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A tmux session of its own (a private server socket), driven the way a person would: keys
/// in with `send-keys`, the screen out with `capture-pane`.
final class TmuxSession: Sendable {
  let tmux: String
  let socket: String
  let name = "skein"

  init(width: Int, height: Int) async throws {
    tmux = try IntegrationPeer.tmux.executable("tmux")
    socket = "skein-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try await run(["new-session", "-d", "-s", name, "-x", String(width), "-y", String(height)])
  }

  /// Runs a tmux command on this session's server and returns what it printed.
  @discardableResult
  func run(_ arguments: [String]) async throws -> String {
    let (status, output) = try Self.spawn([tmux, "-u", "-L", socket] + arguments)
    guard status == 0 else {
      throw IntegrationError(message: "tmux \(arguments.joined(separator: " ")) exited \(status)")
    }
    return output
  }

  /// Runs `argv` and waits for it with `posix_spawn` and `waitpid`, its output in a file.
  ///
  /// Not Foundation's `Process`: the server `tmux new-session` leaves behind inherits the
  /// descriptor `Process` watches for the child's end, so `Process` would wait for the server.
  static func spawn(_ argv: [String]) throws -> (Int32, String) {
    let file = FileManager.default.temporaryDirectory.appending(path: "tmux-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: file) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, file.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    // The calling thread (a Swift concurrency worker) blocks most signals, and a child
    // inherits its mask: tmux's server would never see its children end or a signal.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let arguments = argv.map { strdup($0) } + [nil]
    defer { for argument in arguments { free(argument) } }
    let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, arguments, environ)
    guard spawned == 0 else { throw IntegrationError(message: "posix_spawn failed: \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    let output = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    // Exited normally: the low 7 bits are 0 and the code is in the next 8.
    return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
  }

  /// Types `keys` (tmux key names: `Enter`, `Left`, `Escape`, or literal text).
  func send(_ keys: String...) async throws {
    try await run(["send-keys", "-t", name] + keys)
  }

  /// Types `text` literally.
  func type(_ text: String) async throws {
    try await run(["send-keys", "-t", name, "-l", text])
  }

  /// The screen as a person sees it.
  func screen() async throws -> String {
    try await run(["capture-pane", "-p", "-t", name])
  }

  /// Resizes the window, as a person dragging the terminal's corner.
  func resize(width: Int, height: Int) async throws {
    try await run(["resize-window", "-t", name, "-x", String(width), "-y", String(height)])
  }

  /// Waits until the screen satisfies `condition`; fails with the last screen.
  @discardableResult
  func waitFor(
    _ what: String,
    timeout: Duration = .seconds(30),
    _ condition: (String) -> Bool
  ) async throws -> String {
    let deadline = ContinuousClock.now + timeout
    var last = ""
    while ContinuousClock.now < deadline {
      last = try await screen()
      if condition(last) { return last }
      try await Task.sleep(for: .milliseconds(250))
    }
    Issue.record("\(what): not within \(timeout). The screen:\n\(last)")
    throw IntegrationError(message: "timed out waiting for \(what)")
  }

  /// Ends the session, its server and what runs in it (synchronously: it runs from `defer`,
  /// also when a test fails).
  func kill() {
    _ = try? Self.spawn([tmux, "-u", "-L", socket, "kill-server"])
  }
}

/// The columns of the screen's line that contains `text`, split on spaces.
func row(_ screen: String, containing text: String) -> [Substring]? {
  screen.split(separator: "\n").first { $0.contains(text) }?.split(separator: " ")
}

@Suite(
  "The dashboard in a real terminal",
  .enabled(if: IntegrationPeer.tmux.shouldRun, Comment(rawValue: IntegrationPeer.tmux.skipReason)),
  .timeLimit(.minutes(10))
)
struct DashboardTmuxTests {
  @Test(
    """
    skein demo in tmux: rows appear; d degrades a route (marker, degraded errors climbing, its \
    callee serving none of its calls); arrows shift traffic and the QPS follows; resizing \
    works; q gives the shell a sane terminal back
    """
  )
  func personAtTheKeyboard() async throws {
    try await HeavyTests.run {
      let skein = try skeinExecutable()
      let session = try await TmuxSession(width: 160, height: 48)
      defer { session.kill() }
      let log = FileManager.default.temporaryDirectory.appending(path: "skein-tmux-\(getpid()).log")
      defer { try? FileManager.default.removeItem(at: log) }
      try await session.type(
        "LANG=C.UTF-8 \(skein) demo --cpu-scale 0 --rate 80 --log \(log.path)"
      )
      try await session.send("Enter")
      try await session.waitFor("the routes with figures") { screen in
        screen.contains("ROUTE") && screen.contains("gateway/c2 → ad/c2.GetAds")
          && screen.contains("closed")
      }

      // Degrade gateway/c2 → ad/c2.GetAds: filter to it, d, read the question, y.
      try await session.send("/")
      try await session.type("c2/ad/c2")
      try await session.send("Enter")
      try await session.waitFor("the filtered row") { screen in
        screen.contains("gateway/c2 → ad/c2.GetAds") && !screen.contains("gateway/c1 → ad")
      }
      try await session.send("d")
      try await session.waitFor("the confirmation naming the five-tuple") { screen in
        screen.contains("Degrade /gateway/c2/ad/c2/GetAds?") && screen.contains("(y/N)")
      }
      try await session.send("y")
      try await session.waitFor("the degrade marker") { screen in
        row(screen, containing: "gateway/c2 → ad/c2.GetAds")?.contains("DEG") == true
      }
      try await session.send("Enter")
      let first = try await session.waitFor("degraded calls counted, none served") { screen in
        screen.contains("degraded ") && screen.contains("served 0.0 qps")
      }
      let degraded = { (screen: String) -> Int in
        guard let range = screen.range(of: #"degraded (\d+)"#, options: .regularExpression) else {
          return 0
        }
        return Int(screen[range].split(separator: " ").last ?? "") ?? 0
      }
      try await session.waitFor("the degraded count climbing") { degraded($0) > degraded(first) }
      try await session.send("Escape")

      // Shift gateway/c1's ad traffic all to c2: five presses of → on its c1 row.
      try await session.send("/")
      try await session.send("Escape")
      try await session.send("/")
      try await session.type("c1/ad/c")
      try await session.send("Enter")
      try await session.waitFor("gateway/c1's two ad routes") { screen in
        screen.contains("gateway/c1 → ad/c1.GetAds") && screen.contains("gateway/c1 → ad/c2.GetAds")
      }
      for _ in 0..<5 { try await session.send("Right") }
      try await session.waitFor("the new split in force at once") { screen in
        row(screen, containing: "gateway/c1 → ad/c1.GetAds")?.contains("c1=0,c2=100") == true
      }
      try await session.waitFor("the QPS following the split", timeout: .seconds(20)) { screen in
        let toC1 = row(screen, containing: "gateway/c1 → ad/c1.GetAds")
        let toC2 = row(screen, containing: "gateway/c1 → ad/c2.GetAds")
        // ROUTE is three words; QPS comes next.
        return toC1.map { $0[3] == "0.0" } == true && toC2.flatMap { Double($0[3]) } ?? 0 > 0
      }

      // Resize: down to 80×24 it still draws; below, it says what it needs.
      try await session.resize(width: 80, height: 24)
      try await session.waitFor("the dashboard at 80×24") { screen in
        screen.contains("ROUTE") && screen.split(separator: "\n").allSatisfy { $0.count <= 80 }
      }
      try await session.resize(width: 70, height: 20)
      try await session.waitFor("the too-small notice") { $0.contains("Terminal too small") }
      try await session.resize(width: 160, height: 48)
      try await session.waitFor("the dashboard again") { $0.contains("ROUTE") }

      // q: the dashboard and the mesh end, and the shell's terminal is sane again.
      try await session.send("q")
      try await session.waitFor("the shell back", timeout: .seconds(20)) { screen in
        !screen.contains("ROUTE")
      }
      try await session.type(
        "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo"
      )
      try await session.send("Enter")
      try await session.waitFor("a sane line discipline") { screen in
        let lines = screen.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.contains("icanon") && lines.contains("echo") && !lines.contains("-icanon")
          && !lines.contains("-echo")
      }
    }
  }
}
