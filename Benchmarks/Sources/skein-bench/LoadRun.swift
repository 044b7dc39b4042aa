import NIOCore

/// One timed load run against one server: the calls every connection completes, their
/// latencies, the errors, and the CPU the server and this process used over the timed window.
///
/// The load client is closed-loop: each connection keeps a fixed number of calls in flight
/// and starts a new one as soon as one completes. Every connection of a run lives on the same
/// event loop as the run, so its state needs no lock: all methods must be called on
/// ``eventLoop``, which is why the type can be `@unchecked Sendable`.
final class LoadRun: @unchecked Sendable {
  /// Where the run goes.
  enum Phase {
    /// Connected, no calls yet.
    case idle
    /// Calls flow; nothing is recorded.
    case warmingUp
    /// Calls flow; each completed call is recorded.
    case measuring
    /// No new calls; waiting for those in flight.
    case draining
  }

  /// The loop all connections of this run use.
  let eventLoop: any EventLoop
  /// The server's process id, for its CPU time.
  let serverPID: Int32
  /// Completed when the last call in flight has finished after the timed window.
  let drained: EventLoopPromise<Void>

  /// Where the run is.
  private(set) var phase = Phase.idle
  /// The latency of every call completed in the timed window, nanoseconds.
  var latencies: [UInt64] = []
  /// Calls that failed (lost with their connection, or answered wrongly).
  private(set) var errors = 0
  /// The first failure, to show in the results.
  private(set) var firstError: String?
  /// Replies (in the timed window) that overtook a call sent earlier on the same connection:
  /// zero for a server that answers each connection in order.
  var overtaking = 0
  /// Calls started and not yet finished or failed.
  private(set) var inFlight = 0
  /// The timed window, monotonic nanoseconds.
  private(set) var windowStart: UInt64 = 0
  private(set) var windowEnd: UInt64 = 0
  /// The server's CPU seconds at the start and the end of the timed window.
  private(set) var serverCPUStart: Double?
  private(set) var serverCPUEnd: Double?
  /// This process's CPU seconds at the start and the end of the timed window.
  private(set) var clientCPUStart: Double?
  private(set) var clientCPUEnd: Double?

  /// Busy CPU seconds of the whole machine at the start and the end of the timed window.
  private(set) var machineCPUStart: Double?
  private(set) var machineCPUEnd: Double?

  /// Creates a run whose connections will use `eventLoop`.
  init(eventLoop: any EventLoop, serverPID: Int32, expectedCalls: Int) {
    self.eventLoop = eventLoop
    self.serverPID = serverPID
    self.drained = eventLoop.makePromise()
    latencies.reserveCapacity(expectedCalls)
  }

  /// Whether a connection should start a new call when one completes.
  var keepsSending: Bool { phase == .warmingUp || phase == .measuring }

  /// Starts the calls: every channel gets ``StartCalls``.
  func start(_ channels: [any Channel]) {
    eventLoop.preconditionInEventLoop()
    phase = .warmingUp
    for channel in channels {
      channel.pipeline.fireUserInboundEventTriggered(StartCalls())
    }
  }

  /// Opens the timed window.
  func beginMeasuring() {
    eventLoop.preconditionInEventLoop()
    latencies.removeAll(keepingCapacity: true)
    overtaking = 0
    serverCPUStart = ProcessStats.cpuSeconds(String(serverPID))
    clientCPUStart = ProcessStats.cpuSeconds("self")
    machineCPUStart = ProcessStats.machineBusySeconds()
    windowStart = monotonicNanoseconds()
    phase = .measuring
  }

  /// Closes the timed window; no new calls start after it.
  func endMeasuring() {
    eventLoop.preconditionInEventLoop()
    windowEnd = monotonicNanoseconds()
    serverCPUEnd = ProcessStats.cpuSeconds(String(serverPID))
    clientCPUEnd = ProcessStats.cpuSeconds("self")
    machineCPUEnd = ProcessStats.machineBusySeconds()
    phase = .draining
    finishDrainIfDone()
  }

  /// A connection started a call.
  @inline(__always)
  func callStarted() {
    inFlight += 1
  }

  /// A call completed correctly after `latency` nanoseconds.
  @inline(__always)
  func callCompleted(latency: UInt64) {
    inFlight -= 1
    if phase == .measuring {
      latencies.append(latency)
    } else if phase == .draining {
      finishDrainIfDone()
    }
  }

  /// `count` calls failed; `message` says why.
  func callsFailed(_ count: Int, _ message: String) {
    inFlight -= count
    errors += count
    if firstError == nil { firstError = message }
    if phase == .draining { finishDrainIfDone() }
  }

  /// Stops waiting for the calls still in flight: they count as failed.
  func giveUpDraining(after seconds: Double) {
    eventLoop.preconditionInEventLoop()
    guard !drainCompleted else { return }
    if inFlight > 0 {
      callsFailed(inFlight, "\(inFlight) calls still unanswered \(seconds) s after the run")
    }
    finishDrainIfDone()
  }

  /// Whether ``drained`` has been completed.
  private(set) var drainCompleted = false

  /// Completes ``drained`` once no call is in flight any more.
  private func finishDrainIfDone() {
    if inFlight <= 0, !drainCompleted {
      drainCompleted = true
      drained.succeed()
    }
  }
}

/// The event that tells a connection handler to start its calls.
struct StartCalls {}

/// A call that was answered wrongly.
struct LoadError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Monotonic time in nanoseconds (`CLOCK_MONOTONIC`).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
  NIODeadline.now().uptimeNanoseconds
}

/// Bookkeeping of the calls one connection keeps in flight, one slot per call.
///
/// A call's sequence id (Thrift) or stream (gRPC) names its slot, so a reply finds its start
/// time without a dictionary, whatever order replies come in.
struct CallSlots {
  /// When each slot's call was sent, monotonic nanoseconds.
  private(set) var sentAt: [UInt64]
  /// The id each slot's call carries, or -1 when the slot is idle.
  private(set) var ids: [Int32]
  /// Calls started so far, used to vary ids over time.
  private var started: UInt32 = 0

  /// Creates `count` idle slots.
  init(count: Int) {
    sentAt = Array(repeating: 0, count: count)
    ids = Array(repeating: -1, count: count)
  }

  /// How many slots there are.
  var count: Int { ids.count }

  /// Marks `slot` busy with a fresh Thrift sequence id, which has the slot in its low 16 bits.
  mutating func startThrift(_ slot: Int) -> Int32 {
    started &+= 1
    let id = Int32(bitPattern: ((started & 0x7fff) << 16) | UInt32(slot))
    ids[slot] = id
    sentAt[slot] = monotonicNanoseconds()
    return id
  }

  /// Marks `slot` busy with the given id (a gRPC stream id).
  mutating func start(_ slot: Int, id: Int32) {
    ids[slot] = id
    sentAt[slot] = monotonicNanoseconds()
  }

  /// The slot a Thrift sequence id names, if a call with that id is in flight.
  func slot(forThriftID id: Int32) -> Int? {
    let slot = Int(id & 0xffff)
    return slot < ids.count && ids[slot] == id ? slot : nil
  }

  /// Whether a call sent before `slot`'s is still in flight, i.e. a reply for `slot` now
  /// overtakes it. Checked only for up to 32 slots, where the scan is cheap.
  func isOvertaking(_ slot: Int) -> Bool {
    guard ids.count > 1, ids.count <= 32 else { return false }
    let sent = sentAt[slot]
    for other in 0..<ids.count where other != slot && ids[other] != -1 && sentAt[other] < sent {
      return true
    }
    return false
  }

  /// Marks `slot` idle and returns its call's latency in nanoseconds.
  mutating func finish(_ slot: Int) -> UInt64 {
    ids[slot] = -1
    return monotonicNanoseconds() &- sentAt[slot]
  }
}
