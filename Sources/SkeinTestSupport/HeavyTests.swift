import Foundation

/// Scheduling for the tests that load the machine (a whole mesh in one process, 22 node
/// processes, demos in subprocesses): they start once the quick tests have had the machine to
/// themselves, and one at a time, since on two cores a mesh starting up starves the event loops
/// and timers of the tests beside it and their one-second deadlines pass. Swift Testing runs
/// suites in parallel and has no ordering across suites, so the heavy ones wait and take turns.
///
/// A suite's time limit counts its wait for a turn too: heavy suites get 10 minutes, as the
/// heavy tests before them in the queue take three or more together.
public enum HeavyTests {
  /// How long after the test process starts the heavy tests begin.
  public static let quickTestsHead = Duration.seconds(15)

  /// Runs `body` once ``quickTestsHead`` has passed since the process started and no other
  /// heavy test runs.
  public static func run<Result: Sendable>(_ body: () async throws -> Result) async throws
    -> Result
  {
    if let age = processAge(), age < quickTestsHead {
      try await Task.sleep(for: quickTestsHead - age)
    }
    await turns.acquire()
    do {
      let result = try await body()
      await turns.release()
      return result
    } catch {
      await turns.release()
      throw error
    }
  }

  private static let turns = Turns()

  /// One heavy test at a time, in the order they asked.
  private actor Turns {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
      guard busy else {
        busy = true
        return
      }
      await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
      if waiting.isEmpty {
        busy = false
      } else {
        waiting.removeFirst().resume()
      }
    }
  }

  /// How long this process has run, from `/proc` (field 22 of `/proc/self/stat` is its start in
  /// clock ticks since boot; `/proc/uptime` is now).
  static func processAge() -> Duration? {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
      let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
      let close = stat.lastIndex(of: ")"),
      let now = uptime.split(separator: " ").first.flatMap({ Double($0) })
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After "pid (comm)", the state is field 3, so field 22 is at index 19.
    guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
    let started = ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    return .milliseconds(Int64((now - started) * 1000))
  }
}
