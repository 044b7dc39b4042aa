import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A benchmark server running as a child process, with what Linux reports about it: CPU time
/// from `/proc/PID/stat` and resident memory from `/proc/PID/status`.
///
/// Started with `posix_spawn` rather than Foundation's `Process`, whose children inherit the
/// spawning thread's blocked signals (SIGTERM among them), so a server could not be stopped
/// gracefully; here the child starts with no signal blocked and default dispositions.
final class ServerProcess {
  /// The name shown in the results.
  let name: String
  /// The server's process id.
  let pid: pid_t
  /// Where the server's stdout and stderr go, so a failure can quote them.
  let logPath: String
  /// The wait status once the process has exited and been reaped.
  private var exitStatus: Int32?

  /// Starts `executable` with `arguments`, its output sent to a log file.
  init(name: String, executable: String, arguments: [String]) throws {
    self.name = name
    logPath = NSTemporaryDirectory() + "/skein-bench-\(name)-\(getpid()).log"

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for argument in argv { free(argument) } }
    var child = pid_t()
    let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
    guard result == 0 else {
      throw PeerError("could not start \(executable): \(String(cString: strerror(result)))")
    }
    pid = child
  }

  /// Waits until the server accepts TCP connections on `port`; throws if it exits first or
  /// does not listen within `timeout` seconds.
  func waitUntilListening(port: Int, timeout: Double) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      guard isRunning else {
        throw PeerError("\(name) exited (\(exitDescription)): \(logTail())")
      }
      if canConnect(port: port) { return }
      usleep(20_000)
    }
    throw PeerError("\(name) did not listen on port \(port) within \(Int(timeout)) s: \(logTail())")
  }

  /// The last lines the server printed, on one line.
  func logTail(maxCharacters: Int = 400) -> String {
    let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    let flat = text.split(whereSeparator: \.isNewline).joined(separator: " | ")
    return flat.isEmpty ? "(no output)" : String(flat.suffix(maxCharacters))
  }

  /// Whether the process is still running (reaps it once it has exited).
  var isRunning: Bool {
    guard exitStatus == nil else { return false }
    var status: Int32 = 0
    if waitpid(pid, &status, WNOHANG) == pid {
      exitStatus = status
      return false
    }
    return true
  }

  /// How the process ended, from its wait status.
  var exitDescription: String {
    guard let status = exitStatus else { return "running" }
    let signal = status & 0x7f
    return signal == 0 ? "status \((status >> 8) & 0xff)" : "signal \(signal)"
  }

  /// Stops the server: SIGTERM, then SIGKILL if it is still there after three seconds.
  func stop() {
    if isRunning {
      kill(pid, SIGTERM)
      let deadline = Date().addingTimeInterval(3)
      while isRunning, Date() < deadline { usleep(10_000) }
      if isRunning {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        exitStatus = status
      }
    }
    unlink(logPath)
  }
}

/// CPU time and memory of a process, read from `/proc`.
enum ProcessStats {
  /// Clock ticks per second, the unit of `/proc/PID/stat` times.
  static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

  /// User plus system CPU time of all the process's threads, in seconds (`"self"` for this
  /// process).
  static func cpuSeconds(_ pid: String) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    // After "pid (comm) ": state is field 3, utime field 14 and stime field 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
      return nil
    }
    return (user + system) / ticksPerSecond
  }

  /// CPU seconds every core of the machine spent busy (user, nice, system, irq, softirq)
  /// since boot, from the first line of `/proc/stat`.
  static func machineBusySeconds() -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
      let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
    else { return nil }
    let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard ticks.count >= 7 else { return nil }
    // user nice system idle iowait irq softirq
    return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / ticksPerSecond
  }

  /// Resident set size in KiB (`VmRSS`).
  static func residentKiB(_ pid: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
      return nil
    }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      return Int(
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? ""
      )
    }
    return nil
  }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func canConnect(port: Int) -> Bool {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { return false }
  defer { close(fd) }
  var address = loopbackAddress(port: port)
  let result = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  return result == 0
}

/// A TCP port on 127.0.0.1 that nothing listens on now: the kernel picks it, we let it go.
func freeLoopbackPort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw PeerError("socket() failed: errno \(errno)") }
  defer { close(fd) }
  var address = loopbackAddress(port: 0)
  let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard bound == 0 else { throw PeerError("bind() failed: errno \(errno)") }
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let named = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  guard named == 0 else { throw PeerError("getsockname() failed: errno \(errno)") }
  return Int(UInt16(bigEndian: address.sin_port))
}

/// `sockaddr_in` for 127.0.0.1:`port`.
private func loopbackAddress(port: Int) -> sockaddr_in {
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = UInt16(port).bigEndian
  address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
  return address
}
