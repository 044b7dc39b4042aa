import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SkeinGovernance
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

        Examples:
          skein store serve --port 2380
          skein ctl degrade /*/*/example/*/Visit on --registry memory://127.0.0.1:2380
        """
    )

    @Option(help: "The address to listen on; the store has no authentication, keep it local.")
    var host = "127.0.0.1"

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
    }

    func run() async throws {
      let server = try await ConfigStoreServer.bind(
        configuration: .init(
          host: host,
          port: port,
          maxRequestBodySize: maxRequestBytes,
          maxConcurrentWatches: maxWatches
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
}
