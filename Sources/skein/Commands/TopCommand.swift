import ArgumentParser
import Foundation
import Logging
import SkeinDashboard
import SkeinGovernance
import SkeinMesh

/// `skein top`: the dashboard attached to a running mesh through its config store.
struct TopCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "top",
    abstract: "Open the dashboard on a running mesh: its routes, nodes and events, live.",
    discussion: """
      Finds the mesh's nodes through the registry in the config store, reads their admin \
      endpoints every --interval, and follows the governance and fault keys. Keys flip degrade \
      switches and shift traffic through the store, as `skein ctl` would; --read-only hides \
      and refuses them (and needs only read rights). ? lists every key; q quits.

      Examples:
        skein top --registry etcd://127.0.0.1:2379
        skein top --registry memory://127.0.0.1:2380 --theme high-contrast --read-only
        SKEIN_ETCD_PASSWORD=… skein top --registry etcd://viewer@10.0.0.5:2379 --read-only

      A store served with a token (`skein store serve --token`) needs it for flips: \
      $SKEIN_TOKEN or --token; etcd with authentication needs a user (--etcd-user or \
      etcd://USER@HOST:PORT) and $SKEIN_ETCD_PASSWORD, with read rights on /skein/ for \
      --read-only and write rights to flip.
      """
  )

  @OptionGroup var store: ControlCommand.StoreOptions
  @OptionGroup var adminToken: AdminTokenOptions

  @Option(help: "The name the header gives the mesh.")
  var name = "mesh"

  @OptionGroup(title: "Dashboard") var dashboardOptions: DashboardOptions

  @Flag(help: "Enable the fault keys (for meshes run by `skein demo` or `skein node`).")
  var faults = false

  func validate() throws {
    guard isatty(STDOUT_FILENO) == 1 else {
      throw ValidationError("skein top draws on a terminal; use `skein stats --watch` in scripts.")
    }
  }

  func run() async throws {
    // Nothing may write to the terminal the dashboard draws on: logs go to a file.
    let log = try LogFile(
      path: FileManager.default.temporaryDirectory.appending(path: "skein-top.log").path
    )
    LoggingSystem.bootstrap { label in FileLogHandler(label: label, file: log, level: .info) }
    try await store.withStore { opened in
      let dashboard = Dashboard(
        store: opened,
        options: dashboardOptions.options(
          meshName: name,
          storeURL: store.shownRegistry,
          demo: faults,
          adminToken: try adminToken.token()
        ),
        catalog: ThemeCatalog.load()
      )
      try await dashboard.run()
    }
  }
}
