import ArgumentParser
import Foundation
import SkeinDashboard
import SkeinMetrics

#if canImport(Glibc)
  import Glibc
#endif

/// `skein-bench dashboard`: what the dashboard costs — one frame of a very large mesh, and its
/// CPU while it watches the demo mesh.
struct DashboardBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dashboard",
    abstract: "A frame of 5,000 routes, and the dashboard's CPU on the default mesh.",
    discussion: """
      Frame: the layout of a 200×60 frame of --routes routes (a minute of history each, sorted \
      by QPS), best of --frames. Target: under 10 ms.
      CPU: starts `skein demo --headless` from ../.build/release (build it with `swift build \
      -c release --product skein` in the main package), opens `skein top --registry` on it in a \
      160×48 pseudo-terminal (script) and reads its CPU time from /proc over --seconds, \
      after a warm-up. Target: under 2% of one core at the default 1 s refresh.
      """
  )

  @Option(help: "Routes in the frame.")
  var routes = 5_000

  @Option(help: "Frames drawn; the best counts.")
  var frames = 20

  @Option(help: "Seconds the dashboard's CPU is measured.")
  var seconds = 30

  @Option(help: "The skein executable.")
  var skeinPath = PeerProcess.benchmarksFolder.appending(path: "../.build/release/skein").path

  func run() async throws {
    let best = frame()
    print(
      "Frame of \(routes) routes at 200×60: \(String(format: "%.2f", best)) ms (best of \(frames))"
    )
    print("target: under 10 ms: \(best < 10 ? "PASS" : "MISS")")
    let percent = try await dashboardCPU()
    print(
      "Dashboard CPU on the default mesh, 1 s refresh: \(String(format: "%.2f", percent))% of one core"
    )
    print("target: under 2% of one core: \(percent < 2 ? "PASS" : "MISS")")
  }

  /// The best time, in milliseconds, to lay out a frame of `routes` routes.
  private func frame() -> Double {
    var state = DashboardState(setup: .init(meshName: "bench", storeURL: "memory://127.0.0.1:1"))
    for tick in 0..<60 {
      let stats = MeshStats(
        routes: (0..<routes).map { index in
          RouteStats(
            side: .client,
            from: "caller\(index % 100)",
            fromCluster: "c1",
            to: "callee\(index)",
            toCluster: index % 2 == 0 ? "c1" : "c2",
            method: "Call",
            requests: Int64(tick * 10),
            successes: Int64(tick * 10),
            errors: [:],
            qps: Double((index * 7 + tick) % 500),
            latencyMilliseconds: .init(p50: 1, p90: 2, p99: 3, p999: 4, max: 5),
            inflight: 1,
            breaker: "closed",
            degraded: false,
            traffic: ["c1": 50, "c2": 50]
          )
        },
        nodes: []
      )
      state.ingest(stats, at: Date())
    }
    _ = state.handle(.character("s"))
    let layout = DashboardLayout(glyphs: .unicode)
    var best = Double.infinity
    for _ in 0..<frames {
      let start = ContinuousClock.now
      _ = layout.render(state, width: 200, height: 60, now: Date())
      best = min(best, Double((ContinuousClock.now - start).components.attoseconds) / 1e15)
    }
    return best
  }

  /// The dashboard's CPU in percent of one core while it watches the demo mesh.
  private func dashboardCPU() async throws -> Double {
    let mesh = Process()
    mesh.executableURL = URL(fileURLWithPath: skeinPath)
    mesh.arguments = ["demo", "--headless"]
    let output = Pipe()
    mesh.standardOutput = output
    mesh.standardError = FileHandle.nullDevice
    try mesh.run()
    defer { mesh.terminate() }
    let line = try Self.firstLine(output.fileHandleForReading)
    guard let url = line.split(separator: " ").last.map(String.init), url.hasPrefix("memory://")
    else { throw PeerError("skein demo printed no store URL: \(line)") }
    // `script` gives skein top a pseudo-terminal of 160×48, as a person's terminal would.
    let top = Process()
    top.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    top.arguments = [
      "-q", "-c",
      "stty cols 160 rows 48; LANG=C.UTF-8 TERM=xterm-256color exec \(skeinPath) top --registry \(url)",
      "/dev/null",
    ]
    top.standardInput = Pipe()
    top.standardOutput = FileHandle.nullDevice
    top.standardError = FileHandle.nullDevice
    try top.run()
    defer { top.terminate() }
    try await Task.sleep(for: .seconds(5))
    let dashboard = try Self.descendant(of: top.processIdentifier, named: "skein")
    // script does not pass its end on to skein top, which would keep running.
    defer { kill(pid_t(dashboard) ?? 0, SIGTERM) }
    guard let before = ProcessStats.cpuSeconds(dashboard) else {
      throw PeerError("no skein top process to measure")
    }
    try await Task.sleep(for: .seconds(seconds))
    guard let after = ProcessStats.cpuSeconds(dashboard) else {
      throw PeerError("skein top ended while measured")
    }
    return (after - before) / Double(seconds) * 100
  }

  /// A process below `parent` whose command is `name`: skein top below script's shell.
  static func descendant(of parent: Int32, named name: String) throws -> String {
    var queue = [String(parent)]
    while !queue.isEmpty {
      let pid = queue.removeFirst()
      let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
      if comm.trimmingCharacters(in: .whitespacesAndNewlines) == name { return pid }
      let children =
        (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
      queue += children.split(separator: " ").map(String.init)
    }
    throw PeerError("no \(name) process below \(parent)")
  }

  /// The first line `handle` gives, read a read(2) at a time.
  static func firstLine(_ handle: FileHandle) throws -> String {
    var line = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !line.contains(UInt8(ascii: "\n")) {
      let count = buffer.withUnsafeMutableBytes {
        Glibc.read(handle.fileDescriptor, $0.baseAddress, $0.count)
      }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { break }
      line.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: line, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
  }
}
