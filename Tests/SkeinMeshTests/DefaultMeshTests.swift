import Foundation
import SkeinMesh
import SkeinRPC
import SkeinTestSupport
import Testing

/// The package's root folder, found from this file.
let packageRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The default mesh file.
let defaultMeshPath = packageRoot.appending(path: "demo/mesh.yaml").path

/// `demo/mesh.yaml` is the mesh `skein demo` runs: it must load and be big enough for breakers,
/// degradation and traffic shifting to have something to show (issue 6's counts).
@Suite struct DefaultMeshTests {
  let mesh: MeshDescription

  init() throws {
    mesh = try MeshLoader.load(contentsOf: defaultMeshPath)
  }

  @Test func theBuiltInCopyIsDemoAsCommitted() throws {
    let demo = packageRoot.appending(path: "demo")
    let idl = try FileManager.default.contentsOfDirectory(atPath: demo.appending(path: "idl").path)
      .filter { $0.hasSuffix(".thrift") }.map { "idl/\($0)" }
    var files: [String: String] = [:]
    for path in ["mesh.yaml"] + idl {
      files[path] = try String(contentsOf: demo.appending(path: path), encoding: .utf8)
    }
    let embedded = EmbeddedFiles(
      enumName: "DefaultMeshFiles",
      documentation: "The files of the default mesh, by path relative to `demo/`.",
      origin: "demo/",
      test: "DefaultMeshTests",
      path: "Sources/SkeinMesh/Generated/DefaultMeshFiles.swift"
    )
    #expect(
      try embedded.isCommitted(embedded.source(embedding: files), root: packageRoot),
      "the built-in mesh is stale; run \(embedded.regenerate)"
    )
    #expect(try DefaultMesh.load() == mesh)
  }

  @Test func meetsTheIssuesCounts() {
    #expect(mesh.services.count >= 6)
    let multiCluster = mesh.services.filter { $0.clusters.count >= 2 }.count
    #expect(multiCluster * 2 > mesh.services.count, "most services have 2 clusters")
    #expect(mesh.instances.count >= 16)
    #expect(mesh.routes.count >= 15)
    let meshRoutes = mesh.routes.filter { $0.from != mesh.load.caller }
    #expect(meshRoutes.count >= 15, "five-tuples between the mesh's own services")
    #expect(
      mesh.services.contains { $0.methods.contains { $0.calls.contains { $0.calls.count > 1 } } }
    )
  }

  @Test func countsAreThoseTheReadmeStates() {
    #expect(mesh.services.count == 7)
    #expect(mesh.services.reduce(0) { $0 + $1.clusters.count } == 13)
    #expect(mesh.instances.count == 22)
    #expect(mesh.routes.count == 27)
    #expect(mesh.routes.filter { $0.from == mesh.load.caller }.count == 6)
  }

  @Test func routesFollowTheTrafficSplits() throws {
    let paths = Set(mesh.routes.map(\.path))
    // An explicit 50/50 split crosses clusters.
    #expect(paths.contains("/gateway/c1/ad/c2/GetAds"))
    #expect(paths.contains("/gateway/c2/ad/c1/GetAds"))
    // Without a split, calls stay in the caller's cluster…
    #expect(paths.contains("/gateway/c1/feed/c1/GetFeed"))
    #expect(!paths.contains("/gateway/c1/feed/c2/GetFeed"))
    // …unless the callee has no instances there.
    #expect(paths.contains("/gateway/c2/search/c1/Query"))
    // The edge spreads over every gateway cluster.
    #expect(paths.contains("/edge/default/gateway/c2/Home"))
    #expect(mesh.routes == mesh.routes.sorted())
    #expect(Set(mesh.routes).count == mesh.routes.count)
  }

  @Test func instancesAreListedPerCluster() throws {
    let gateway = mesh.instances.filter { $0.service.rawValue == "gateway" }
    #expect(
      gateway.map(\.description) == [
        "gateway/c1#0", "gateway/c1#1", "gateway/c2#0", "gateway/c2#1",
      ]
    )
    #expect(mesh.instances.allSatisfy { $0.weight == MeshCluster.defaultWeight })
  }

  @Test func routePoliciesSeedTrafficAndBalancers() throws {
    let ad = try #require(mesh.routePolicies.first { $0.to.rawValue == "ad" })
    #expect(ad.from.rawValue == "gateway")
    #expect(ad.traffic == [try Cluster("c1"): 50, try Cluster("c2"): 50])
    let feed = try #require(mesh.routePolicies.first { $0.to.rawValue == "feed" })
    #expect(feed.balancer == "p2c")
    #expect(feed.traffic == nil)
  }

  @Test func everyServiceHasItsIDLFile() {
    for service in mesh.services {
      let file = packageRoot.appending(path: "demo/idl/\(service.idl.file)").path
      #expect(FileManager.default.fileExists(atPath: file), "\(file)")
    }
  }
}

/// The simulated work and load shapes behave as documented.
@Suite struct SimulationModelTests {
  @Test func latencyHasTheGivenMedianAndTail() {
    let latency = LatencyDistribution(p50Milliseconds: 4, p99Milliseconds: 20)
    // Unseeded: with this many samples the bounds below are many standard errors wide.
    var generator = SystemRandomNumberGenerator()
    let samples = (0..<100_000).map { _ in latency.sampleMilliseconds(using: &generator) }.sorted()
    let p50 = samples[samples.count / 2]
    let p99 = samples[samples.count * 99 / 100]
    #expect(abs(p50 - 4) < 0.2, "p50 \(p50)")
    #expect(abs(p99 - 20) < 1.5, "p99 \(p99)")
    #expect(samples.last! <= 20 * LatencyDistribution.tailCap)
    #expect(samples.first! > 0)
  }

  @Test func equalPercentilesAreAConstant() {
    let latency = LatencyDistribution(p50Milliseconds: 3, p99Milliseconds: 3)
    var generator = SystemRandomNumberGenerator()
    #expect(latency.sample(using: &generator) == .milliseconds(3))
  }

  @Test func loadShapesMoveTheRate() {
    #expect(LoadShape.steady.factor(atSecond: 100) == 1)
    let ramp = LoadShape.ramp(seconds: 10)
    #expect(ramp.factor(atSecond: 0) == 0)
    #expect(ramp.factor(atSecond: 5) == 0.5)
    #expect(ramp.factor(atSecond: 30) == 1)
    let spike = LoadShape.spike(every: 30, duration: 5, factor: 4)
    #expect(spike.factor(atSecond: 10) == 1)
    #expect(spike.factor(atSecond: 26) == 4)
    #expect(spike.factor(atSecond: 31) == 1)
    let load = LoadProfile(caller: .unknown, rate: 100, shape: spike, mix: [])
    #expect(load.rate(atSecond: 27) == 400)
  }
}
