import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SkeinGovernance
import SkeinHTTP
import UnixSignals

/// `skein store`: the embedded config store as a process of its own.
struct StoreCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "store",
    abstract: "Host the embedded config store for other processes on this machine.",
    subcommands: [Serve.self]
  )

  /// `skein store serve`.
  struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Serve an embedded memory config store until SIGINT or SIGTERM.",
      discussion: """
        The store speaks the part of etcd's v3 JSON API Skein uses, so every process on the \
        machine shares its switches and registry with nothing installed: pass the URL printed \
        on the first line (memory://HOST:PORT) as --registry. Its contents live in this \
        process's memory and are gone when it exits.

        Who may: it listens on 127.0.0.1, where every user of the machine may read and \
        change it. Another address needs --allow-remote and a token (--token, or better \
        $SKEIN_TOKEN, which `ps` does not show); then every change (put, delete, leases) must \
        carry the token and one without it is refused (HTTP 401) and logged with its address. \
        Reads stay open, so dashboards and `skein stats` need no secret.

        Examples:
          skein store serve --port 2380
          skein ctl degrade /*/*/example/*/Visit on --registry memory://127.0.0.1:2380
          SKEIN_TOKEN=$(openssl rand -hex 32) skein store serve --host 0.0.0.0 --port 2380 --allow-remote
          SKEIN_TOKEN=… skein node --service feed --cluster c1 --registry memory://10.0.0.5:2380
        """
    )

    @Option(
      help: "The address to listen on; anything but loopback needs --allow-remote and a token."
    )
    var host = "127.0.0.1"

    @Flag(help: "Allow --host to be an address beyond loopback (a token is then required).")
    var allowRemote = false

    @Option(
      help: """
        The token every change must carry (at least 16 characters; `openssl rand -hex 32`). \
        Default: $SKEIN_TOKEN. A flag shows in `ps`: prefer the variable.
        """
    )
    var token: String?

    @Option(help: "The port to listen on (0 picks a free one; the first line says which).")
    var port = 0

    @Option(help: "The largest request body accepted, in bytes.")
    var maxRequestBytes = ConfigStoreServer.Configuration.defaultMaxRequestBodySize

    @Option(help: "Watches served at once.")
    var maxWatches = ConfigStoreServer.Configuration.defaultMaxConcurrentWatches

    func validate() throws {
      guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535.") }
      guard maxRequestBytes >= 1 else {
        throw ValidationError("--max-request-bytes must be at least 1.")
      }
      guard maxWatches >= 0 else { throw ValidationError("--max-watches cannot be negative.") }
      _ = try accessToken()
    }

    /// `--token`, else `$SKEIN_TOKEN`, checked.
    func accessToken() throws -> AccessToken? {
      try StoreCommand.accessToken(token)
    }

    func run() async throws {
      let server = try await ConfigStoreServer.bind(
        configuration: .init(
          host: host,
          port: port,
          maxRequestBodySize: maxRequestBytes,
          maxConcurrentWatches: maxWatches,
          allowNonLoopback: allowRemote,
          token: try accessToken()
        )
      )
      // Written unbuffered and first: scripts and tests read the URL from this line.
      printNow("\(server.url)")
      let group = ServiceGroup(
        configuration: .init(
          services: [server],
          gracefulShutdownSignals: [.sigterm, .sigint],
          logger: Logger(label: "skein.store")
        )
      )
      try await group.run()
    }
  }

  /// A server's token from `flag`, else `$SKEIN_TOKEN`, or the error a person reads for one
  /// that cannot be used; shared by the commands that serve a store.
  static func accessToken(
    _ flag: String?,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> AccessToken? {
    try AccessToken.given(flag, option: "--token", variable: "SKEIN_TOKEN", in: environment)
  }
}
