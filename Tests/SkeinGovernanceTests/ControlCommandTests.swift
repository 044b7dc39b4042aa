import SkeinGovernance
import SkeinRPC
import SkeinTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite(
  "skein ctl against etcd",
  .enabled(if: IntegrationPeer.etcd.shouldRun, Comment(rawValue: IntegrationPeer.etcd.skipReason))
)
struct ControlCommandTests {
  @Test("switches set with skein ctl are in force for a watching caller")
  func ctlFlipsSwitches() async throws {
    let etcd = try await EtcdServer.start()
    let registry = "etcd://127.0.0.1:\(etcd.clientPort)"
    let skein = try skeinExecutable()
    let store = EtcdConfigStore(endpoint: etcd.endpoint)
    let state = GovernanceState(store: store)
    let watching = Task { await state.run() }
    let route = try FiveTuple(path: "/gateway/c1/example/c2/Visit")

    try await ProcessResult.check(
      skein,
      ["ctl", "degrade", "/gateway/*/example/*/Visit", "on", "--registry", registry]
    )
    #expect(try await eventually { state.isDegraded(route) })
    try await ProcessResult.check(
      skein,
      ["ctl", "traffic", "/*/*/example/*/*", "c1=80,c2=20", "--registry", registry]
    )
    #expect(try await eventually { state.trafficWeights(route) == ["c1": 80, "c2": 20] })
    try await ProcessResult.check(
      skein,
      ["ctl", "config", "/*/*/example/*/Visit", #"{"timeout_ms":250}"#, "--registry", registry]
    )
    #expect(try await eventually { state.config(route).timeoutMilliseconds == 250 })
    try await ProcessResult.check(
      skein,
      ["ctl", "degrade", "/gateway/*/example/*/Visit", "off", "--registry", registry]
    )
    #expect(try await eventually { !state.isDegraded(route) })
    let listing = try await ProcessResult.check(
      skein,
      ["ctl", "get", "/skein/governance/", "--registry", registry]
    )
    #expect(
      listing.output.contains("/skein/governance/*/*/example/*/*/traffic = {\"c1\":80,\"c2\":20}")
    )
    #expect(listing.output.contains("(3 keys, revision"))
    watching.cancel()
    try await store.shutdown()
  }

  @Test("bad input gets a clear error")
  func badInput() async throws {
    let skein = try skeinExecutable()
    let badPath = try await ProcessResult.run(skein, ["ctl", "degrade", "/a/b", "on"])
    #expect(badPath.status != 0)
    #expect(badPath.errorOutput.contains("invalid route pattern \"/a/b\""))
    let badWeights = try await ProcessResult.run(
      skein,
      ["ctl", "traffic", "/*/*/*/*/*", "c1=lots"]
    )
    #expect(badWeights.errorOutput.contains("weights are cluster=integer pairs"))
    let badScheme = try await ProcessResult.run(
      skein,
      ["ctl", "get", "--registry", "redis://127.0.0.1:1"]
    )
    #expect(badScheme.status != 0)
    #expect(badScheme.errorOutput.contains("etcd://HOST:PORT or memory://HOST:PORT"))
    let unreachable = try await ProcessResult.run(
      skein,
      ["ctl", "get", "--registry", "etcd://127.0.0.1:1"]
    )
    #expect(unreachable.status != 0)
    #expect(unreachable.errorOutput.contains("unavailable"), "\(unreachable.errorOutput)")
  }
}

@Suite("skein ctl against skein store serve")
struct ControlCommandMemoryStoreTests {
  @Test("a switch put with skein ctl is read back from the embedded store another process serves")
  func ctlAgainstServedStore() async throws {
    let skein = try skeinExecutable()
    let serving = try RunningProcess(skein, ["store", "serve", "--port", "0"])
    let registry = try await serving.waitForLine(containing: "memory://")
    #expect(registry.hasPrefix("memory://127.0.0.1:"))
    try await ProcessResult.check(
      skein,
      ["ctl", "degrade", "/gateway/*/example/*/Visit", "on", "--registry", registry]
    )
    let listing = try await ProcessResult.check(
      skein,
      ["ctl", "get", "/skein/governance/", "--registry", registry]
    )
    #expect(
      listing.output.contains(
        #"/skein/governance/gateway/*/example/*/Visit/degrade = {"on":true}"#
      ),
      "\(listing.output)"
    )
    #expect(listing.output.contains("(1 keys, revision 1)"))
    serving.signal(SIGTERM)
    #expect(try await serving.waitForExit() == 0)
  }
}
