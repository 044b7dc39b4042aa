import Foundation
import SkeinDashboard
import Testing

/// The package's root folder, found from this file.
let packageRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The theme files shipped in `themes/`, by file name.
func shippedThemeFiles() throws -> [String: String] {
  let folder = packageRoot.appending(path: "themes")
  var files: [String: String] = [:]
  for name in try FileManager.default.contentsOfDirectory(atPath: folder.path)
  where name.hasSuffix(".theme") {
    files[name] = try String(contentsOf: folder.appending(path: name), encoding: .utf8)
  }
  return files
}

/// Theme files: every shipped one, and every kind of mistake a hand-written one can have.
@Suite struct ThemeTests {
  @Test func everyShippedThemeParsesAndSetsEveryKey() throws {
    let files = try shippedThemeFiles()
    #expect(files.count == 5)
    for (name, text) in files {
      let theme = try Theme.parse(text, file: "themes/\(name)")
      #expect(theme.name + ".theme" == name)
      // Every key written out, so a shipped theme never silently borrows another's colors.
      let keys = Set(
        text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("=") }
          .map { $0.split(separator: "=")[0].trimmingCharacters(in: .whitespaces) }
      )
      #expect(keys == Set(["name"] + Theme.ColorKey.allCases.map(\.rawValue)), "\(name)")
    }
  }

  @Test func shippedThemesHaveTheirColors() throws {
    let files = try shippedThemeFiles()
    let highContrast = try Theme.parse(try #require(files["high-contrast.theme"]), file: "hc")
    #expect(highContrast[.ok] == .ansi(.brightGreen))
    #expect(highContrast[.headerBackground] == .ansi(.blue))
    let monochrome = try Theme.parse(try #require(files["monochrome.theme"]), file: "m")
    #expect(Theme.ColorKey.allCases.allSatisfy { monochrome[$0] == .terminalDefault })
    #expect(Theme.default.name == "default")
    #expect(Theme.default[.bad] == .rgb(red: 0xff, green: 0x5f, blue: 0x5f))
    #expect(Theme.default[.background] == .terminalDefault)
  }

  @Test func missingKeysFallBackToTheDefaultTheme() throws {
    let theme = try Theme.parse("name = mine\nok = red\n", file: "mine.theme")
    #expect(theme.name == "mine")
    #expect(theme[.ok] == .ansi(.red))
    #expect(theme[.bad] == Theme.default[.bad])
    #expect(theme[.selectionBackground] == Theme.default[.selectionBackground])
  }

  @Test func aMissingNameIsTheFileName() throws {
    let theme = try Theme.parse("# nothing but a comment\n\nbad = #FF0000\n", file: "/x/dusk.theme")
    #expect(theme.name == "dusk")
    #expect(theme[.bad] == .rgb(red: 255, green: 0, blue: 0))
  }

  @Test func everyProblemIsReportedWithItsLineAndKey() {
    let text = """
      name = broken
      # a comment
      colour = red
      ok = purple
      warn yellow
      ok = green
      bad = #12345
      name = again
      """
    #expect {
      try Theme.parse(text, file: "themes/broken.theme")
    } throws: { error in
      guard let error = error as? ThemeError else { return false }
      let file = "themes/broken.theme"
      return error.file == file
        && error.problems == [
          .init(file: file, line: 3, key: "colour", kind: .unknownKey),
          .init(file: file, line: 4, key: "ok", kind: .badColor("purple")),
          .init(file: file, line: 5, key: "warn yellow", kind: .missingEquals),
          .init(file: file, line: 6, key: "ok", kind: .duplicateKey(firstLine: 4)),
          .init(file: file, line: 7, key: "bad", kind: .badColor("#12345")),
          .init(file: file, line: 8, key: "name", kind: .duplicateKey(firstLine: 1)),
        ]
        && error.description.split(separator: "\n").count == 6
        && error.description.contains("themes/broken.theme:3: unknown key `colour`")
        && error.description.contains(
          "themes/broken.theme:6: duplicate key `ok` (first set on line 4)"
        )
    }
  }

  @Test func windowsLineEndingsKeepLineNumbers() {
    #expect {
      try Theme.parse("name = w\r\nok = green\r\nwarn = nope\r\n", file: "w.theme")
    } throws: { error in
      (error as? ThemeError)?.problems == [
        .init(file: "w.theme", line: 3, key: "warn", kind: .badColor("nope"))
      ]
    }
  }

  @Test func colorsParseAsThemeFilesWriteThem() {
    #expect(ThemeColor(parsing: "") == .terminalDefault)
    #expect(ThemeColor(parsing: "default") == .terminalDefault)
    #expect(ThemeColor(parsing: "bright-red") == .ansi(.brightRed))
    #expect(ThemeColor(parsing: "black") == .ansi(.black))
    #expect(ThemeColor(parsing: "#FFaa00") == .rgb(red: 255, green: 0xaa, blue: 0))
    for bad in ["#12345", "#1234567", "#gggggg", "purple", "bright-", "0xffffff", "#+12345"] {
      #expect(ThemeColor(parsing: bad) == nil, "\(bad)")
    }
    for text in ["default", "bright-white", "yellow", "#05af0d"] {
      #expect(ThemeColor(parsing: text)?.description == text)
    }
  }

  @Test func rolesTakeTheirKeysColors() throws {
    let theme = try Theme.parse(
      "background = black\nforeground = white\nheader.background = blue\n"
        + "header.foreground = yellow\nselection.background = cyan\nselection.foreground = red\n"
        + "graph.high = magenta\n",
      file: "t.theme"
    )
    #expect(theme.colors(for: .normal) == (.ansi(.white), .ansi(.black)))
    #expect(theme.colors(for: .header) == (.ansi(.yellow), .ansi(.blue)))
    #expect(theme.colors(for: .selection) == (.ansi(.red), .ansi(.cyan)))
    #expect(theme.colors(for: .graphHigh) == (.ansi(.magenta), .ansi(.black)))
  }
}
