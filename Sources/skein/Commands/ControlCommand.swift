import ArgumentParser
import Foundation
import SkeinGovernance
import SkeinMesh
import SkeinRPC

/// `skein ctl`: flips governance switches in the config store; every caller obeys.
struct ControlCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ctl",
    abstract: "Read and change governance switches in the config store.",
    discussion: """
      PATH is a route, /from/fromCluster/to/toCluster/method, with * allowed in any segment; \
      the most specific match wins. Changes go through the config store and every caller \
      watching it obeys.

      Examples:
        skein ctl degrade /gateway/*/example/*/Visit on --registry etcd://127.0.0.1:2379
        skein ctl traffic /*/*/example/*/* c1=80,c2=20
        skein ctl config /*/*/example/*/Visit '{"timeout_ms":250,"balancer":"p2c"}'
        skein ctl get /skein/governance/ --registry memory://127.0.0.1:2380
        skein ctl fault storage/c1/0 --latency-ms 200 --error-rate 0.2
        skein ctl fault storage/c1/0 --clear

      Who may: a store served with --token (`skein store serve --allow-remote --token …`) \
      refuses changes without it; pass it as $SKEIN_TOKEN (or --token). etcd with \
      authentication on takes a user and a password: --etcd-user or etcd://USER@HOST:PORT, the \
      password in $SKEIN_ETCD_PASSWORD. Reading (`get`) needs only read rights.
        SKEIN_TOKEN=$(cat ~/.skein-token) skein ctl degrade /*/*/ad/*/GetAds on --registry memory://10.0.0.5:2380
        SKEIN_ETCD_PASSWORD=… skein ctl get /skein/ --registry etcd://viewer@10.0.0.5:2379
      """,
    subcommands: [Degrade.self, Traffic.self, Config.self, Fault.self, Access.self, Get.self]
  )

  /// Where the config store is, and who to say we are to it.
  struct StoreOptions: ParsableArguments {
    @Option(
      help: """
        The config store: etcd://HOST:PORT (etcd://USER@HOST:PORT to log in), or \
        memory://HOST:PORT for the embedded store a process serves (`skein store serve`). \
        Default: $SKEIN_REGISTRY, else etcd://127.0.0.1:2379.
        """
    )
    var registry = ProcessInfo.processInfo.environment["SKEIN_REGISTRY"] ?? "etcd://127.0.0.1:2379"

    @Option(
      help: """
        The embedded store's token (memory:// only), needed to change a store served with \
        --token; reads need none. Default: $SKEIN_TOKEN. A flag shows in `ps`: prefer the \
        variable.
        """
    )
    var token: String?

    @Option(
      help: """
        The etcd user to log in as (etcd with authentication on). Default: the URL's user, \
        else $SKEIN_ETCD_USER. The password comes from $SKEIN_ETCD_PASSWORD.
        """
    )
    var etcdUser: String?

    @Option(
      help: """
        The etcd user's password. Shows in `ps` and shell history: prefer \
        $SKEIN_ETCD_PASSWORD.
        """
    )
    var etcdPassword: String?

    @Option(
      help: """
        Talk to etcd over TLS, trusting this CA (PEM) for its certificate (etcd's \
        --trusted-ca-file side); --etcd-cert and --etcd-key alone use the system's CAs.
        """
    )
    var etcdCa: String?

    @Option(help: "The client certificate (PEM) for an etcd run with --client-cert-auth.")
    var etcdCert: String?

    @Option(help: "The client certificate's key (PEM).")
    var etcdKey: String?

    func validate() throws {
      _ = try credentials()
      _ = try tls()
    }

    /// Client TLS to etcd, when any of its flags is given.
    func tls() throws -> EtcdTLS? {
      guard etcdCa != nil || etcdCert != nil || etcdKey != nil else { return nil }
      guard try url().kind == .etcd else {
        throw ValidationError("--etcd-ca, --etcd-cert and --etcd-key are for etcd:// stores")
      }
      do {
        return try EtcdTLS(caFile: etcdCa, certificateFile: etcdCert, keyFile: etcdKey)
      } catch { throw ValidationError(error.message) }
    }

    /// The parsed `--registry`.
    func url() throws -> ConfigStoreURL { try Self.url(registry) }

    /// `--registry` as a person may see it: never the password.
    var shownRegistry: String { (try? url().description) ?? registry }

    /// A `--registry` value parsed, or the error a person reads for it: shared by every
    /// command that takes one.
    static func url(_ text: String) throws -> ConfigStoreURL {
      do {
        return try ConfigStoreURL(parsing: text)
      } catch { throw ValidationError("--registry: \(error.message)") }
    }

    /// Who to say we are, from the flags, the URL and the environment, or the error a person
    /// reads for a combination that cannot work.
    func credentials(
      environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ConfigStoreCredentials? {
      let url = try url()
      let token = self.token ?? environment["SKEIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
      switch url.kind {
      case .memory:
        guard etcdUser == nil, etcdPassword == nil else {
          throw ValidationError(
            "--etcd-user and --etcd-password are for etcd:// stores; memory:// takes --token"
          )
        }
        return token.map { .token($0) }
      case .etcd:
        guard self.token == nil else {
          throw ValidationError(
            "--token is for memory:// stores; etcd takes a user (--etcd-user or etcd://USER@HOST:PORT) and $SKEIN_ETCD_PASSWORD"
          )
        }
        let user =
          etcdUser ?? url.user ?? environment["SKEIN_ETCD_USER"].flatMap { $0.isEmpty ? nil : $0 }
        let password = etcdPassword ?? url.password ?? environment["SKEIN_ETCD_PASSWORD"]
        guard let user else {
          if etcdPassword != nil {
            throw ValidationError(
              "--etcd-password needs a user: --etcd-user or etcd://USER@HOST:PORT"
            )
          }
          return nil
        }
        guard let password else {
          throw ValidationError(
            "etcd user '\(user)' needs a password: set SKEIN_ETCD_PASSWORD (or --etcd-password, which shows in `ps`)"
          )
        }
        return .user(name: user, password: password)
      }
    }

    /// A client for the store, logged in as the options say; shut it down when done.
    func open() throws -> EtcdConfigStore {
      try url().open(credentials: credentials(), tls: tls())
    }

    /// Runs `body` with a store, closing it afterwards.
    func withStore<T>(_ body: (EtcdConfigStore) async throws -> T) async throws -> T {
      let store = try open()
      do {
        let result = try await body(store)
        try? await store.shutdown()
        return result
      } catch {
        try? await store.shutdown()
        throw error
      }
    }
  }

  /// Parses a route pattern argument into a ValidationError a person can act on.
  static func pattern(_ path: String) throws -> RoutePattern {
    do {
      return try RoutePattern(path: path)
    } catch { throw ValidationError("\(error)") }
  }

  /// `skein ctl degrade PATH on|off`.
  struct Degrade: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Turn a route's degrade switch on (callers fail fast) or off."
    )

    @Argument(help: "The route pattern.") var path: String
    @Argument(help: "on or off.") var state: String
    @OptionGroup var store: StoreOptions

    func validate() throws {
      _ = try ControlCommand.pattern(path)
      guard state == "on" || state == "off" else {
        throw ValidationError("the switch is 'on' or 'off', not '\(state)'")
      }
    }

    func run() async throws {
      let key = GovernanceSwitch.degrade.key(for: try ControlCommand.pattern(path))
      let value = SwitchValue.degrade(state == "on")
      let revision = try await store.withStore { try await $0.put(key, value) }
      print("\(key) = \(value) (revision \(revision))")
    }
  }

  /// `skein ctl traffic PATH c1=80,c2=20`.
  struct Traffic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Set how callers split a route's calls across the callee's clusters."
    )

    @Argument(help: "The route pattern.") var path: String
    @Argument(help: "Weights by cluster: c1=80,c2=20.") var weights: String
    @OptionGroup var store: StoreOptions

    func parsedWeights() throws -> [String: Int] {
      var result: [String: Int] = [:]
      for pair in weights.split(separator: ",") {
        let parts = pair.split(separator: "=")
        guard parts.count == 2, let weight = Int(parts[1]), weight >= 0,
          (try? Cluster(String(parts[0]))) != nil
        else {
          throw ValidationError("weights are cluster=integer pairs like c1=80,c2=20, not '\(pair)'")
        }
        result[String(parts[0])] = weight
      }
      guard result.values.contains(where: { $0 > 0 }) else {
        throw ValidationError("at least one cluster needs a positive weight")
      }
      return result
    }

    func validate() throws {
      _ = try ControlCommand.pattern(path)
      _ = try parsedWeights()
    }

    func run() async throws {
      let key = GovernanceSwitch.traffic.key(for: try ControlCommand.pattern(path))
      let value = try SwitchValue.traffic(parsedWeights())
      let revision = try await store.withStore { try await $0.put(key, value) }
      print("\(key) = \(value) (revision \(revision))")
    }
  }

  /// `skein ctl config PATH JSON`.
  struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Set a route's dynamic config: timeout_ms, retries, balancer, breaker."
    )

    @Argument(help: "The route pattern.") var path: String
    @Argument(help: #"The config document, e.g. {"timeout_ms":250,"balancer":"p2c"}."#)
    var json: String
    @OptionGroup var store: StoreOptions

    func validate() throws {
      _ = try ControlCommand.pattern(path)
      do {
        _ = try SwitchValue.parseConfig(json)
      } catch { throw ValidationError("not a route config document: \(error)") }
    }

    func run() async throws {
      let key = GovernanceSwitch.config.key(for: try ControlCommand.pattern(path))
      let revision = try await store.withStore { try await $0.put(key, json) }
      print("\(key) = \(json) (revision \(revision))")
    }
  }

  /// `skein ctl fault SERVICE/CLUSTER/INSTANCE …`.
  struct Fault: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Inject a fault into one instance of a demo mesh, or clear it.",
      discussion: """
        The instance obeys within a tenth of a second: added latency and errors apply to its \
        next calls; --down kills it (server and admin endpoint closed, its lease left to \
        lapse, as a crash would) until the fault is cleared; --partition makes it take calls \
        and never answer. Each use replaces the instance's whole fault.
        """
    )

    @Argument(help: "The instance: service/cluster/index, e.g. storage/c1/0.")
    var instance: String
    @Option(help: "Milliseconds to add to every call.") var latencyMs: Int?
    @Option(help: "The share of calls to fail, 0-1.") var errorRate: Double?
    @Flag(help: "Kill the instance.") var down = false
    @Flag(help: "Cut the instance off: calls reach it and are never answered.") var partition =
      false
    @Flag(help: "Remove the fault: the instance is healthy (and restarted, if killed).")
    var clear = false
    @OptionGroup var store: StoreOptions

    func meshInstance() throws -> MeshInstance {
      let parts = instance.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
      guard parts.count == 3, let index = Int(parts[2]), index >= 0,
        let service = try? ServiceName(parts[0]), let cluster = try? Cluster(parts[1])
      else {
        throw ValidationError(
          "the instance is service/cluster/index, like storage/c1/0, not '\(instance)'"
        )
      }
      return MeshInstance(service: service, cluster: cluster, index: index, weight: 0)
    }

    var fault: InstanceFault {
      InstanceFault(
        latencyMilliseconds: latencyMs,
        errorRate: errorRate,
        down: down ? true : nil,
        partitioned: partition ? true : nil
      )
    }

    func validate() throws {
      _ = try meshInstance()
      guard clear != (fault != .none) else {
        throw ValidationError(
          "give a fault (--latency-ms, --error-rate, --down, --partition) or --clear"
        )
      }
      do {
        _ = try InstanceFault.parse(fault.value)
      } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
      let key = InstanceFault.key(of: try meshInstance())
      if clear {
        let existed = try await store.withStore { try await $0.delete(key) }
        print(existed ? "\(key) cleared" : "\(key) had no fault")
        return
      }
      let value = fault.value
      let revision = try await store.withStore { try await $0.put(key, value) }
      print("\(key) = \(value) (revision \(revision))")
    }
  }

  /// `skein ctl get PREFIX`.
  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print every key under a prefix with its value."
    )

    @Argument(help: "The key prefix, e.g. /skein/governance/ or /skein/services/.")
    var prefix = "/skein/"
    @OptionGroup var store: StoreOptions

    func run() async throws {
      let (entries, revision) = try await store.withStore { try await $0.list(prefix: prefix) }
      for entry in entries { print("\(entry.key) = \(entry.value)") }
      print("(\(entries.count) keys, revision \(revision))")
    }
  }
}
