import Foundation
import SkeinDashboard
import SkeinTestSupport
import Testing

/// The catalog: built-in copies of `themes/`, overridden by the user's folder and a project's.
@Suite struct ThemeCatalogTests {
  @Test func theBuiltInCopyIsThemesAsCommitted() throws {
    let files = try shippedThemeFiles()
    let embedded = EmbeddedFiles(
      enumName: "BuiltInThemes",
      documentation: "The theme files of `themes/`, by file name.",
      origin: "themes/",
      test: "ThemeCatalogTests",
      path: "Sources/SkeinDashboard/Generated/BuiltInThemes.swift"
    )
    #expect(
      try embedded.isCommitted(embedded.source(embedding: files), root: packageRoot),
      "the built-in themes are stale; run \(embedded.regenerate)"
    )
    let fromDisk = try files.map { name, text in try Theme.parse(text, file: name) }
    #expect(Set(ThemeCatalog.builtIn.themes) == Set(fromDisk))
  }

  @Test func builtInThemesStartWithTheDefault() {
    let catalog = ThemeCatalog.builtIn
    #expect(
      catalog.themes.map(\.name) == [
        "default", "high-contrast", "light", "monochrome", "solarized-dark",
      ]
    )
    #expect(catalog.problems.isEmpty)
    #expect(catalog.defaultTheme == Theme.default)
  }

  @Test func foldersOverrideAndExtendAndBrokenFilesAreSkipped() throws {
    let root = FileManager.default.temporaryDirectory
      .appending(path: "skein-themes-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let user = root.appending(path: "config/skein/themes")
    let project = root.appending(path: "project/themes")
    try FileManager.default.createDirectory(at: user, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
    let files = [
      user.appending(path: "default.theme"): "name = default\nok = red\n",
      user.appending(path: "dusk.theme"): "name = dusk\nbad = blue\n",
      user.appending(path: "broken.theme"): "name = broken\nok = nope\n",
      user.appending(path: "notes.txt"): "not a theme",
      project.appending(path: "dusk.theme"): "name = dusk\nbad = green\n",
    ]
    for (file, text) in files { try text.write(to: file, atomically: true, encoding: .utf8) }

    let catalog = ThemeCatalog.load(
      environment: ["XDG_CONFIG_HOME": root.appending(path: "config").path],
      currentDirectory: root.appending(path: "project").path
    )
    #expect(catalog.defaultTheme[.ok] == .ansi(.red), "the user's default replaces the built-in")
    #expect(catalog.themes.first?.name == "default", "in place")
    #expect(catalog.theme(named: "dusk")?[.bad] == .ansi(.green), "the project's wins")
    #expect(catalog.themes.last?.name == "dusk", "new themes come last")
    #expect(catalog.theme(named: "broken") == nil)
    #expect(catalog.problems.count == 1)
    #expect(catalog.problems.first?.file == user.appending(path: "broken.theme").path)
    #expect(catalog.problems.first?.problems.first?.line == 2)
    #expect(catalog.theme(named: "light") != nil, "built-ins not overridden stay")
  }

  @Test func theUserFolderFollowsXDG() {
    #expect(
      ThemeCatalog.userFolder(environment: ["XDG_CONFIG_HOME": "/c", "HOME": "/h"])
        == "/c/skein/themes"
    )
    #expect(
      ThemeCatalog.userFolder(environment: ["XDG_CONFIG_HOME": "", "HOME": "/h"])
        == "/h/.config/skein/themes"
    )
    #expect(ThemeCatalog.userFolder(environment: [:]) == nil)
  }

  @Test func cyclingWrapsAround() {
    let catalog = ThemeCatalog.builtIn
    #expect(catalog.theme(after: "default").name == "high-contrast")
    #expect(catalog.theme(after: "solarized-dark").name == "default")
    #expect(catalog.theme(after: "no-such-theme").name == "default")
  }
}
