import Foundation
import SkeinGovernance
import SkeinTestSupport
import Testing

extension IntegrationPeer {
  /// OpenSSL's command line, to make a CA and certificates for a test.
  static let openssl = IntegrationPeer(name: "openssl", needs: [("openssl", [], nil)])
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in a
/// folder of their own (P-256 keys: quick to make).
private struct TestCertificates {
  let folder: URL

  func path(_ name: String) -> String { folder.appending(path: name).path }

  static func make() async throws -> TestCertificates {
    let openssl = try IntegrationPeer.openssl.executable("openssl")
    let folder = FileManager.default.temporaryDirectory.appending(
      path: "skein-tls-\(UUID().uuidString)"
    )
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let made = TestCertificates(folder: folder)
    func run(_ arguments: [String]) async throws {
      let result = try await ProcessResult.run(openssl, arguments)
      guard result.status == 0 else {
        throw IntegrationError(message: "openssl \(arguments.first ?? ""): \(result.errorOutput)")
      }
    }
    let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    try await run(
      ["req", "-x509"] + key + [
        "-keyout", made.path("ca.key"), "-out", made.path("ca.pem"), "-days", "1",
        "-subj", "/CN=skein-test-ca",
      ]
    )
    // etcd's JSON gateway calls etcd's own gRPC side with the server certificate, which
    // --client-cert-auth then checks as a client's: it needs both usages.
    for (name, usage) in [("server", "serverAuth,clientAuth"), ("client", "clientAuth")] {
      try await run(
        ["req"] + key + [
          "-keyout", made.path("\(name).key"), "-out", made.path("\(name).csr"),
          "-subj", "/CN=skein-\(name)",
        ]
      )
      try Data("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=\(usage)\n".utf8)
        .write(to: folder.appending(path: "\(name).ext"))
      try await run([
        "x509", "-req", "-in", made.path("\(name).csr"), "-CA", made.path("ca.pem"),
        "-CAkey", made.path("ca.key"), "-CAcreateserial", "-out", made.path("\(name).pem"),
        "-days", "1", "-extfile", made.path("\(name).ext"),
      ])
    }
    return made
  }
}

@Suite(
  "etcd over client TLS",
  .timeLimit(.minutes(2)),
  .enabled(
    if: IntegrationPeer.etcd.shouldRun && IntegrationPeer.openssl.shouldRun,
    Comment(rawValue: "\(IntegrationPeer.etcd.skipReason); \(IntegrationPeer.openssl.skipReason)")
  )
)
struct EtcdTLSTests {
  @Test(
    "with the CA and a client certificate the store works; without the certificate etcd refuses"
  )
  func clientCertificates() async throws {
    let certificates = try await TestCertificates.make()
    defer { try? FileManager.default.removeItem(at: certificates.folder) }
    let server = try await EtcdServer.start(
      extraArguments: [
        "--cert-file", certificates.path("server.pem"), "--key-file",
        certificates.path("server.key"),
        "--trusted-ca-file", certificates.path("ca.pem"), "--client-cert-auth",
      ],
      scheme: "https"
    )
    let url = try ConfigStoreURL(parsing: "etcd://127.0.0.1:\(server.clientPort)")
    let store = url.open(
      tls: try EtcdTLS(
        caFile: certificates.path("ca.pem"),
        certificateFile: certificates.path("client.pem"),
        keyFile: certificates.path("client.key")
      )
    )
    #expect(store.endpoint.hasPrefix("https://"))
    let stream = store.watch(prefix: "/skein/", after: nil)
    try await store.put("/skein/governance/a/b/c/d/e/degrade", #"{"on":true}"#)
    #expect(try await store.get("/skein/governance/a/b/c/d/e/degrade")?.value == #"{"on":true}"#)
    var changes = stream.makeAsyncIterator()
    #expect(try await changes.next()?.key == "/skein/governance/a/b/c/d/e/degrade")

    // Trusting the CA but showing no certificate: etcd ends the handshake.
    let anonymous = url.open(
      tls: try EtcdTLS(caFile: certificates.path("ca.pem"), certificateFile: nil, keyFile: nil)
    )
    let refused = await #expect(throws: ConfigStoreError.self) {
      _ = try await anonymous.get("/skein/x")
    }
    #expect(refused?.code == .unavailable)
    // Not trusting etcd's CA: the client ends the handshake.
    let untrusting = url.open(
      tls: try EtcdTLS(
        caFile: nil,
        certificateFile: certificates.path("client.pem"),
        keyFile: certificates.path("client.key")
      )
    )
    await #expect(throws: ConfigStoreError.self) { _ = try await untrusting.get("/skein/x") }
    let missing = #expect(throws: ConfigStoreError.self) {
      try EtcdTLS(caFile: certificates.path("nope.pem"), certificateFile: nil, keyFile: nil)
    }
    #expect(missing?.message.contains("nope.pem") == true)
    #expect(throws: ConfigStoreError.self) {
      try EtcdTLS(caFile: nil, certificateFile: certificates.path("client.pem"), keyFile: nil)
    }
    // The command line: --etcd-ca, --etcd-cert and --etcd-key.
    let skein = try skeinExecutable()
    let registry = ["--registry", "\(url)"]
    let read = try await ProcessResult.run(
      skein,
      ["ctl", "get", "/skein/"] + registry + [
        "--etcd-ca", certificates.path("ca.pem"), "--etcd-cert", certificates.path("client.pem"),
        "--etcd-key", certificates.path("client.key"),
      ]
    )
    #expect(read.status == 0, "\(read.errorOutput)")
    #expect(read.output.contains("/skein/governance/a/b/c/d/e/degrade"))
    let plain = try await ProcessResult.run(skein, ["ctl", "get", "/skein/"] + registry)
    #expect(plain.status != 0)
    let keyless = try await ProcessResult.run(
      skein,
      ["ctl", "get", "/skein/"] + registry + ["--etcd-cert", certificates.path("client.pem")]
    )
    #expect(keyless.status != 0 && keyless.errorOutput.contains("--etcd-cert with --etcd-key"))
    for client in [store, anonymous, untrusting] { try await client.shutdown() }
    await server.stop()
  }
}
