import Foundation
import SkeinTestSupport
import Testing

/// Runs `skein` with `environment` added (through `env`, so nothing else of the test's own
/// environment changes) and, first, the variables that would change the outcome removed.
private func skein(_ arguments: [String], environment: [String: String] = [:]) async throws
  -> ProcessResult
{
  let variables = [
    "-u", "SKEIN_TOKEN", "-u", "SKEIN_REGISTRY", "-u", "SKEIN_ETCD_PASSWORD", "-u",
    "SKEIN_ADMIN_TOKEN",
  ]
  let assignments = environment.map { "\($0.key)=\($0.value)" }.sorted()
  return try await ProcessResult.run(
    "/usr/bin/env",
    variables + assignments + [try skeinExecutable()] + arguments
  )
}

@Suite("who may: the store's token on the command line", .timeLimit(.minutes(2)))
struct WhoMayCommandTests {
  static let token = "cli-token-for-tests-0123456789abcdef"

  @Test("store serve refuses an address beyond loopback without --allow-remote and a token")
  func serveRefusesRemoteWithoutToken() async throws {
    let noFlag = try await skein(["store", "serve", "--host", "0.0.0.0", "--port", "0"])
    #expect(noFlag.status != 0)
    #expect(noFlag.errorOutput.contains("not a loopback address"), "\(noFlag.errorOutput)")
    #expect(noFlag.errorOutput.contains("--allow-remote"))
    let noToken = try await skein(["store", "serve", "--host", "0.0.0.0", "--allow-remote"])
    #expect(noToken.status != 0)
    #expect(noToken.errorOutput.contains("without a token"), "\(noToken.errorOutput)")
    let short = try await skein(["store", "serve", "--token", "short"])
    #expect(short.status != 0 && short.errorOutput.contains("at least 16 characters"))
    let help = try await skein(["store", "serve", "--help"])
    #expect(help.output.contains("--allow-remote") && help.output.contains("SKEIN_TOKEN"))
    let ctlHelp = try await skein(["ctl", "degrade", "--help"])
    #expect(ctlHelp.output.contains("--token") && ctlHelp.output.contains("--etcd-user"))
  }

  @Test("a store served with a token takes changes only with it; anyone may read")
  func changesNeedTheToken() async throws {
    let store = try RunningProcess(
      "/usr/bin/env",
      ["SKEIN_TOKEN=\(Self.token)", try skeinExecutable(), "store", "serve", "--port", "0"]
    )
    defer { store.signal() }
    let line = try await store.waitForLine(containing: "memory://")
    let registry = try #require(
      line.split(separator: " ").first { $0.hasPrefix("memory://") }.map(String.init)
    )
    let degrade = ["ctl", "degrade", "/gateway/*/ad/*/GetAds", "on", "--registry", registry]

    let refused = try await skein(degrade)
    #expect(refused.status != 0)
    #expect(refused.errorOutput.contains("needs its token"), "\(refused.errorOutput)")
    #expect(refused.errorOutput.contains("SKEIN_TOKEN"))
    let wrong = try await skein(degrade + ["--token", "wrong-token-0123456789abcdef"])
    #expect(wrong.status != 0 && wrong.errorOutput.contains("the one sent is wrong"))

    let accepted = try await skein(degrade, environment: ["SKEIN_TOKEN": Self.token])
    #expect(accepted.status == 0, "\(accepted.errorOutput)")
    let access = try await skein(
      ["ctl", "access", "ad/*/GetAds", "gateway", "--registry", registry],
      environment: ["SKEIN_TOKEN": Self.token]
    )
    #expect(access.status == 0, "\(access.errorOutput)")

    let read = try await skein(["ctl", "get", "/skein/", "--registry", registry])
    #expect(read.status == 0, "\(read.errorOutput)")
    #expect(read.output.contains("/skein/governance/gateway/*/ad/*/GetAds/degrade"))
    #expect(read.output.contains(#"/skein/access/ad/*/GetAds = {"callers":["gateway"]}"#))

    let etcdFlag = try await skein(degrade + ["--etcd-user", "ops"])
    #expect(etcdFlag.status != 0 && etcdFlag.errorOutput.contains("memory:// takes --token"))
  }

  @Test("skein node beyond loopback needs an admin token; skein stats reads it only with it")
  func nodeBeyondLoopbackNeedsAnAdminToken() async throws {
    let store = try RunningProcess(try skeinExecutable(), ["store", "serve", "--port", "0"])
    defer { store.signal() }
    let line = try await store.waitForLine(containing: "memory://")
    let registry = try #require(
      line.split(separator: " ").first { $0.hasPrefix("memory://") }.map(String.init)
    )
    let node = [
      "node", "--service", "storage", "--cluster", "c1", "--instance", "0", "--host", "0.0.0.0",
      "--registry", registry, "--cpu-scale", "0", "--log", "/dev/null",
    ]
    let refused = try await skein(node)
    #expect(refused.status != 0)
    #expect(
      refused.errorOutput.contains("beyond loopback")
        && refused.errorOutput.contains("SKEIN_ADMIN_TOKEN"),
      "\(refused.errorOutput)"
    )

    let serving = try RunningProcess(
      "/usr/bin/env",
      ["SKEIN_ADMIN_TOKEN=\(Self.token)", try skeinExecutable()] + node
    )
    defer { serving.signal() }
    _ = try await serving.waitForLine(containing: "skein node:")
    let stats = ["stats", "--registry", registry, "--json"]
    let read = try await eventually("skein stats with the token sees the node up") {
      let run = try await skein(stats, environment: ["SKEIN_ADMIN_TOKEN": Self.token])
      return run.status == 0 && run.output.contains(#""up":true"#)
    }
    #expect(read)
    let withoutToken = try await skein(stats)
    #expect(
      withoutToken.output.contains(#""up":false"#) && !withoutToken.output.contains(#""up":true"#),
      "without the token the node's figures stay closed: \(withoutToken.output)"
    )
  }

  @Test("an etcd user without a password is a clear error before anything is sent")
  func etcdUserNeedsAPassword() async throws {
    let result = try await skein([
      "ctl", "get", "/skein/", "--registry", "etcd://viewer@127.0.0.1:1",
    ])
    #expect(result.status != 0)
    #expect(
      result.errorOutput.contains("etcd user 'viewer' needs a password: set SKEIN_ETCD_PASSWORD")
    )
    let token = try await skein([
      "ctl", "get", "/skein/", "--registry", "etcd://127.0.0.1:1", "--token", "x",
    ])
    #expect(token.status != 0 && token.errorOutput.contains("--token is for memory:// stores"))
  }
}
