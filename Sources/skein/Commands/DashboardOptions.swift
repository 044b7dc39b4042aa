import ArgumentParser
import SkeinDashboard
import SkeinHTTP

/// The dashboard's options, as `skein demo` and `skein top` take them.
struct DashboardOptions: ParsableArguments {
  @Option(help: "Seconds between two refreshes of the dashboard (0.1 at the least).")
  var interval = 1.0

  @Option(help: "The theme: default, light, high-contrast, monochrome, solarized-dark, or yours.")
  var theme = ThemeCatalog.defaultThemeName

  @Flag(help: "Draw in plain ASCII.")
  var ascii = false

  @Flag(help: "Hide and refuse every key that changes the mesh.")
  var readOnly = false

  func validate() throws {
    guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1.") }
    let catalog = ThemeCatalog.load()
    guard catalog.theme(named: theme) != nil else {
      let known = catalog.themes.map(\.name).joined(separator: ", ")
      throw ValidationError("--theme: no theme '\(theme)'; there are \(known).")
    }
  }

  /// The dashboard on `storeURL`'s mesh called `meshName`; `demo` enables the fault keys.
  func options(
    meshName: String,
    storeURL: String,
    demo: Bool,
    adminToken: AccessToken? = nil
  ) -> Dashboard.Options {
    Dashboard.Options(
      setup: .init(
        meshName: meshName,
        storeURL: storeURL,
        refreshSeconds: interval,
        readOnly: readOnly,
        demo: demo
      ),
      themeName: theme,
      ascii: ascii,
      adminToken: adminToken
    )
  }
}
