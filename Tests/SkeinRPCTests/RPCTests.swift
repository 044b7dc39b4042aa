import NIOCore
import ServiceLifecycle
import ServiceLifecycleTestKit
import SkeinRPC
import SkeinTestSupport
import SkeinThrift
import Testing

@Suite("RPC runtime on loopback", .timeLimit(.minutes(1)))
struct RPCTests {
  @Test(
    "many calls in flight on one connection each get their own reply",
    arguments: [true, false]
  )
  func concurrencyAndSequenceIDs(handlersRunOnEventLoop: Bool) async throws {
    let server = try await RunningServer.start(
      TestHandler(recorder: Recorder()),
      handlersRunOnEventLoop: handlersRunOnEventLoop
    )
    let client = try makeClient([server.address], connections: 1)
    let service = TestServiceClient(client)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for i in 0..<200 {
        group.addTask {
          // Later calls answer sooner, so replies come back out of order.
          let response = try await service.call(
            req: Request(text: "n\(i)", delayMs: Int32(200 - i) / 10)
          )
          #expect(response.text == "n\(i)")
        }
      }
      try await group.waitForAll()
    }
    await client.shutdown()
    await server.stop()
  }

  @Test("Base carries LogID and caller; the server fills BaseResp")
  func baseHandling() async throws {
    let server = try await RunningServer.start(TestHandler(recorder: Recorder()))
    let client = try makeClient([server.address], caller: "gateway")
    let response = try await TestServiceClient(client).call(req: Request(text: "x"))
    #expect(response.caller == "gateway")
    #expect(response.logID.count == 26)
    #expect(response.baseResp?.statusCode == 0)
    #expect((1...5000).contains(response.remainingMs), "the server saw the caller's budget")
    await client.shutdown()
    await server.stop()
  }

  @Test("oneway calls run the handler and get no reply")
  func oneway() async throws {
    let recorder = Recorder()
    let server = try await RunningServer.start(TestHandler(recorder: recorder))
    let client = try makeClient([server.address])
    let service = TestServiceClient(client)
    try await service.notify(req: Request(text: "ping"))
    // The connection stays in step: a two-way call after the oneway one gets its own reply.
    #expect(try await service.call(req: Request(text: "after")).text == "after")
    while recorder.notes.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
    #expect(recorder.notes == ["ping"])
    await client.shutdown()
    await server.stop()
  }

  @Test("an unknown method is a remote exception and the connection stays usable")
  func unknownMethod() async throws {
    let server = try await RunningServer.start(TestHandler(recorder: Recorder()))
    let client = try makeClient([server.address], connections: 1)
    let error = await rpcError { try await OtherServiceClient(client).missing() }
    #expect(error?.code == .remote)
    #expect(error?.remoteException?.kind == .unknownMethod)
    #expect(try await TestServiceClient(client).call(req: Request(text: "still")).text == "still")
    await client.shutdown()
    await server.stop()
  }

  @Test("handler errors: declared exceptions come back as themselves, others as INTERNAL_ERROR")
  func handlerErrors() async throws {
    let server = try await RunningServer.start(TestHandler(recorder: Recorder()))
    let client = try makeClient([server.address], connections: 1)
    let service = TestServiceClient(client)
    await #expect(throws: Boom(why: "declared: a")) {
      try await service.call(req: Request(text: "a", failDeclared: true))
    }
    let error = await rpcError { _ = try await service.call(req: Request(text: "b", fail: true)) }
    #expect(error?.code == .remote)
    #expect(error?.remoteException?.kind == .internalError)
    #expect(try await service.call(req: Request(text: "c")).text == "c")
    await client.shutdown()
    await server.stop()
  }

  @Test("a slow handler makes the call time out on time")
  func timeout() async throws {
    let server = try await RunningServer.start(TestHandler(recorder: Recorder()))
    let client = try makeClient([server.address], timeout: .milliseconds(300))
    let service = TestServiceClient(client)
    // Connect first, so the measured call spends its 300 ms waiting for the reply. On a
    // machine the rest of the suite is loading, the warm-up itself may need a few tries.
    var warmed = false
    for _ in 0..<20 where !warmed {
      warmed = (try? await service.call(req: Request(text: "warm"))) != nil
    }
    #expect(warmed)
    let started = ContinuousClock.now
    let error = await rpcError { _ = try await service.call(req: Request(delayMs: 3000)) }
    #expect(error?.code == .timeout)
    #expect(ContinuousClock.now - started < .milliseconds(1500))
    await client.shutdown()
    await server.stop()
  }

  @Test("a server refuses a request whose deadline passed while it waited, without running it")
  func deadlineRefusal() async throws {
    let recorder = Recorder()
    // One call at a time per connection: the second call waits behind the first.
    let server = try await RunningServer.start(
      TestHandler(recorder: recorder),
      maxConcurrentCallsPerConnection: 1
    )
    let client = try makeClient([server.address], timeout: .seconds(5), connections: 1)
    let service = TestServiceClient(client)
    _ = try await service.call(req: Request(text: "warm"))
    async let first = service.call(req: Request(text: "slow", delayMs: 400))
    try await Task.sleep(for: .milliseconds(50))
    // A caller whose own caller left it 100 ms: the deadline it inherits wins over 5 s.
    let hurried = CallContext(
      route: try FiveTuple(path: "/edge/default/test-client/c1/call"),
      logID: "hurried",
      deadline: .now + .milliseconds(100)
    )
    let error = await rpcError {
      _ = try await CallContext.$current.withValue(hurried) {
        try await service.call(req: Request(text: "queued"))
      }
    }
    #expect(error?.code == .timeout)
    #expect(try await first.text == "slow")
    // The queued call reached the server after its deadline: refused, never run.
    try await Task.sleep(for: .milliseconds(100))
    #expect(recorder.runs == 2, "the warm-up and the slow call ran; the queued one did not")
    await client.shutdown()
    await server.stop()
  }

  @Test("the deadline travels three hops and shrinks at each; LogID stays the same")
  func deadlinePropagation() async throws {
    let recorder = Recorder()
    let third = try await RunningServer.start(TestHandler(recorder: recorder), name: "test-server")
    let toThird = try makeClient([third.address], caller: "second", timeout: .seconds(10))
    let second = try await RunningServer.start(
      TestHandler(recorder: recorder, downstream: TestServiceClient(toThird))
    )
    let toSecond = try makeClient([second.address], caller: "first", timeout: .seconds(10))
    let first = try await RunningServer.start(
      TestHandler(recorder: recorder, downstream: TestServiceClient(toSecond))
    )
    // A budget well above the work (three hops of 50 ms), so a loaded machine's connection
    // set-ups do not exhaust it; the test is that it shrinks at each hop.
    let client = try makeClient([first.address], timeout: .seconds(3))
    let response = try await TestServiceClient(client).relay(
      req: Request(text: "deep", delayMs: 50, hops: 2)
    )
    #expect(response.hopBudgets.count == 3)
    #expect(response.hopBudgets.allSatisfy { $0 > 0 && $0 <= 3000 }, "\(response.hopBudgets)")
    // Each hop sleeps 50 ms before calling on, so each later hop has less left.
    #expect(zip(response.hopBudgets, response.hopBudgets.dropFirst()).allSatisfy { $0 - $1 >= 40 })
    #expect(response.logID.count == 26)
    for c in [client, toSecond, toThird] { await c.shutdown() }
    for s in [first, second, third] { await s.stop() }
  }

  @Test("more pending calls than the pool admits fail fast with overloaded")
  func poolExhaustion() async throws {
    let server = try await RunningServer.start(TestHandler(recorder: Recorder()))
    let client = try makeClient([server.address], maxPending: 2)
    let service = TestServiceClient(client)
    async let a = service.call(req: Request(text: "a", delayMs: 300))
    async let b = service.call(req: Request(text: "b", delayMs: 300))
    try await Task.sleep(for: .milliseconds(50))
    let error = await rpcError { _ = try await service.call(req: Request(text: "c")) }
    #expect(error?.code == .overloaded)
    #expect(error?.message.contains("maxPendingCallsPerInstance") == true)
    _ = try await (a, b)
    #expect(try await service.call(req: Request(text: "d")).text == "d")
    await client.shutdown()
    await server.stop()
  }

  @Test("nothing listening is a connect failure, and retries back off")
  func connectFailure() async throws {
    let client = try makeClient([InstanceAddress(host: "127.0.0.1", port: try RefusingPort.make())])
    let service = TestServiceClient(client)
    let first = await rpcError { _ = try await service.call(req: Request()) }
    #expect(first?.code == .connectFailed)
    // Retries right after a failure are refused without dialing until the backoff passes
    // (a loaded machine may let the first 50 ms pass, so several are tried).
    var refusedWithoutDialing = false
    for _ in 0..<5 {
      let retry = await rpcError { _ = try await service.call(req: Request()) }
      #expect(retry?.code == .connectFailed)
      refusedWithoutDialing =
        refusedWithoutDialing || retry?.message.contains("next attempt in") == true
    }
    #expect(refusedWithoutDialing)
    await client.shutdown()
  }

  @Test("an idle connection is closed, and the next call opens a new one")
  func idleReaping() async throws {
    let server = try await RunningServer.start(TestHandler(recorder: Recorder()))
    let client = try makeClient([server.address], idleTimeout: .milliseconds(200))
    let service = TestServiceClient(client)
    _ = try await service.call(req: Request(text: "one"))
    #expect(client.poolLoad()[server.address]?.connections == 1)
    #expect(client.poolLoad()[server.address]?.pendingCalls == 0)
    let deadline = ContinuousClock.now + .seconds(5)
    while client.poolLoad()[server.address]?.connections != 0, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(client.poolLoad()[server.address]?.connections == 0)
    #expect(try await service.call(req: Request(text: "two")).text == "two")
    #expect(client.poolLoad()[server.address]?.connections == 1)
    await client.shutdown()
    await server.stop()
  }

  @Test("cancelling the caller's task cancels the call")
  func cancellation() async throws {
    let server = try await RunningServer.start(TestHandler(recorder: Recorder()))
    let client = try makeClient([server.address])
    let service = TestServiceClient(client)
    let call = Task { try await service.call(req: Request(delayMs: 2000)) }
    try await Task.sleep(for: .milliseconds(100))
    call.cancel()
    let started = ContinuousClock.now
    let error = await rpcError { _ = try await call.value }
    #expect(error?.code == .cancelled)
    // Well before the handler's 2 s: the call did not wait for the reply.
    #expect(ContinuousClock.now - started < .milliseconds(1500))
    await client.shutdown()
    await server.stop()
  }

  @Test(
    "a handler still running when its client goes away is cancelled",
    arguments: [true, false]
  )
  func clientGoneCancels(handlersRunOnEventLoop: Bool) async throws {
    let recorder = Recorder()
    let server = try await RunningServer.start(
      TestHandler(recorder: recorder),
      handlersRunOnEventLoop: handlersRunOnEventLoop
    )
    let peer = try await RawPeer.connect(server.address)
    // Two calls first, so that the slow one may run in a task kept from them.
    try await peer.send(Wire.call(text: "a") + Wire.call(text: "b"))
    #expect(
      try await waitUntil(timeout: .seconds(2), every: .milliseconds(5)) {
        peer.frames().count == 2
      }
    )
    try await peer.send(Wire.call(text: "slow", delayMs: 10_000))
    #expect(
      try await waitUntil(timeout: .seconds(2), every: .milliseconds(5)) { recorder.runs == 3 }
    )
    try await peer.close()
    // Long before the handler's 10 s.
    _ = try await waitUntil(timeout: .seconds(2), every: .milliseconds(5)) {
      !recorder.notes.isEmpty
    }
    #expect(recorder.notes == ["cancelled slow"])
    await server.stop()
  }

  @Test(
    "a connection's call tasks end with it: a stopped server holds nothing",
    arguments: [true, false]
  )
  func callTasksEnd(handlersRunOnEventLoop: Bool) async throws {
    // Only the server holds the handler's recorder: whatever of the server is left alive
    // holds it too, a call task still waiting for a request included.
    weak var recorder: Recorder?
    var server: RunningServer? = try await {
      let held = Recorder()
      recorder = held
      return try await RunningServer.start(
        TestHandler(recorder: held),
        handlersRunOnEventLoop: handlersRunOnEventLoop
      )
    }()
    let client = try makeClient([try #require(server?.address)], connections: 1)
    let service = TestServiceClient(client)
    // Calls at once (more than a connection keeps tasks for), then one after another.
    try await withThrowingTaskGroup(of: Void.self) { group in
      for i in 0..<100 {
        group.addTask { _ = try await service.call(req: Request(delayMs: Int32(i % 5))) }
      }
      try await group.waitForAll()
    }
    for _ in 0..<20 { _ = try await service.call(req: Request()) }
    #expect(recorder?.runs == 120)
    await client.shutdown()
    await server?.stop()
    server = nil
    #expect(
      try await waitUntil(timeout: .seconds(2), every: .milliseconds(5)) { recorder == nil },
      "something still holds the stopped server's handler"
    )
  }

  @Test("graceful shutdown lets calls in flight finish and reply")
  func gracefulDrain() async throws {
    let recorder = Recorder()
    let server = try await RPCServer.bind(
      TestServiceProcessor(TestHandler(recorder: recorder)),
      configuration: .init(port: 0, identity: ServiceIdentity(name: try ServiceName("test-server")))
    )
    let client = try makeClient([server.address])
    try await testGracefulShutdown { trigger in
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let service = TestServiceClient(client)
        _ = try await service.call(req: Request(text: "warm"))
        let inFlight = Task { try await service.call(req: Request(text: "drained", delayMs: 300)) }
        // Shut down once the handler is running: the call is then truly in flight.
        while recorder.runs < 2 { try await Task.sleep(for: .milliseconds(5)) }
        trigger.triggerGracefulShutdown()
        #expect(try await inFlight.value.text == "drained")
        try await group.waitForAll()
      }
    }
    // The server is gone: a new call cannot connect.
    let error = await rpcError { _ = try await TestServiceClient(client).call(req: Request()) }
    #expect(error?.code == .transport || error?.code == .connectFailed)
    await client.shutdown()
  }

  @Test("a caller not on a method's allow-list is denied and counted; others pass")
  func accessControl() async throws {
    let acl = AccessControlMiddleware(allowed: ["call": [try ServiceName("gateway")]])
    let server = try await RunningServer.start(TestHandler(recorder: Recorder()), middleware: [acl])
    let gateway = try makeClient([server.address], caller: "gateway")
    let intruder = try makeClient([server.address], caller: "intruder")
    #expect(try await TestServiceClient(gateway).call(req: Request(text: "ok")).text == "ok")
    let error = await rpcError { _ = try await TestServiceClient(intruder).call(req: Request()) }
    #expect(error?.code == .denied)
    #expect(error?.message.contains("'intruder' may not call 'call'") == true)
    // Methods without a list admit everyone.
    _ = try await TestServiceClient(intruder).relay(req: Request(text: "open"))
    #expect(acl.deniedCalls == [.init(caller: try ServiceName("intruder"), method: "call"): 1])
    await gateway.shutdown()
    await intruder.shutdown()
    await server.stop()
  }

  @Test("calls follow the balancer's weights, and instance updates take effect")
  func balancingAndInstanceUpdates() async throws {
    let (heavyRuns, lightRuns) = (Recorder(), Recorder())
    let heavy = try await RunningServer.start(TestHandler(recorder: heavyRuns))
    let light = try await RunningServer.start(TestHandler(recorder: lightRuns))
    let client = try makeClient([])
    await client.setInstances([
      WeightedInstance(heavy.address, weight: 3), WeightedInstance(light.address, weight: 1),
    ])
    let service = TestServiceClient(client)
    for _ in 0..<40 { _ = try await service.call(req: Request()) }
    #expect(heavyRuns.runs == 30 && lightRuns.runs == 10)
    await client.setInstances([WeightedInstance(light.address)])
    for _ in 0..<10 { _ = try await service.call(req: Request()) }
    #expect(heavyRuns.runs == 30 && lightRuns.runs == 20)
    #expect(client.poolLoad().keys.sorted() == [light.address])
    await client.setInstances([])
    let error = await rpcError { _ = try await service.call(req: Request()) }
    #expect(error?.code == .noInstance)
    await client.shutdown()
    await heavy.stop()
    await light.stop()
  }

  @Test("middleware runs in the order listed, on both sides, and sees the route")
  func middlewareOrder() async throws {
    let recorder = Recorder()
    let server = try await RunningServer.start(
      TestHandler(recorder: Recorder()),
      middleware: [Tag(name: "s1", recorder: recorder), Tag(name: "s2", recorder: recorder)]
    )
    let client = try makeClient(
      [server.address],
      middleware: [Tag(name: "c1", recorder: recorder), Tag(name: "c2", recorder: recorder)]
    )
    _ = try await TestServiceClient(client).call(req: Request())
    #expect(
      recorder.notes == [
        "c1 /test-client/c1/test-server/default/call",
        "c2 /test-client/c1/test-server/default/call",
        "s1 /test-client/c1/test-server/default/call",
        "s2 /test-client/c1/test-server/default/call",
      ]
    )
    await client.shutdown()
    await server.stop()
  }
}

/// Notes its name and the route of each call it sees.
struct Tag: Middleware {
  let name: String
  let recorder: Recorder

  func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    recorder.note("\(name) \(context.route)")
    return try await next(context, args)
  }
}

extension RPCServer {
  fileprivate var address: InstanceAddress { localAddress }
}
