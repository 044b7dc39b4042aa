import Foundation

/// The themes the dashboard can show, in the order it cycles through them.
///
/// It starts from the built-in copies of the repository's `themes/*.theme` (so the dashboard
/// looks the same from any folder), then reads the user's folder
/// (`$XDG_CONFIG_HOME/skein/themes`, else `~/.config/skein/themes`), then `themes/` in the
/// current folder. A later file with a theme's name replaces it in place; a new name is added
/// at the end. The nearer folder wins, as with git's config files: a project's `themes/`
/// over the user's, the user's over the built-in ones. A broken file is kept in ``problems``
/// and skipped; the other files still load.
public struct ThemeCatalog: Sendable {
  /// The name of the theme the dashboard starts with.
  public static let defaultThemeName = "default"
  /// The folder built-in themes claim to come from, in error messages.
  public static let builtInFolder = "/built-in/themes"
  /// Where the themes live in the repository, relative to its root.
  public static let repositoryFolder = "themes"

  /// The themes, in cycling order: the default first.
  public private(set) var themes: [Theme]
  /// The files that could not be used, in the order they were read.
  public private(set) var problems: [ThemeError]

  /// A catalog of `themes`, in that order.
  ///
  /// - Parameter themes: The themes; a later one with the name of an earlier one replaces it.
  public init(themes: [Theme]) {
    self.themes = []
    problems = []
    for theme in themes { add(theme) }
  }

  /// The built-in themes: `default` first, then the others by file name.
  public static let builtIn: ThemeCatalog = {
    var catalog = ThemeCatalog(themes: [])
    let files = BuiltInThemes.files.sorted { left, right in
      let defaultFile = defaultThemeName + ".theme"
      return left.key == defaultFile || (right.key != defaultFile && left.key < right.key)
    }
    for (fileName, text) in files {
      catalog.add(text: text, file: "\(builtInFolder)/\(fileName)")
    }
    return catalog
  }()

  /// The built-in themes, then the user's folder, then `themes/` in the current folder.
  ///
  /// - Returns: The catalog, with the problems of any broken file.
  public static func load() -> ThemeCatalog {
    load(
      environment: ProcessInfo.processInfo.environment,
      currentDirectory: FileManager.default.currentDirectoryPath
    )
  }

  /// The built-in themes, then the user's folder, then `themes/` in `currentDirectory`.
  ///
  /// - Parameters:
  ///   - environment: Where `XDG_CONFIG_HOME` and `HOME` are read.
  ///   - currentDirectory: The folder whose `themes/` is read last.
  /// - Returns: The catalog, with the problems of any broken file.
  public static func load(
    environment: [String: String],
    currentDirectory: String
  ) -> ThemeCatalog {
    var catalog = builtIn
    if let user = userFolder(environment: environment) { catalog.addFolder(atPath: user) }
    catalog.addFolder(atPath: currentDirectory + "/" + repositoryFolder)
    return catalog
  }

  /// The user's theme folder: `$XDG_CONFIG_HOME/skein/themes`, else
  /// `$HOME/.config/skein/themes`.
  ///
  /// - Parameter environment: The process environment.
  /// - Returns: The folder, or `nil` when neither variable is set.
  public static func userFolder(environment: [String: String]) -> String? {
    if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
      return config + "/skein/themes"
    }
    if let home = environment["HOME"], !home.isEmpty { return home + "/.config/skein/themes" }
    return nil
  }

  /// Adds `theme`, replacing the theme of the same name in place or appending it.
  ///
  /// - Parameter theme: The theme.
  public mutating func add(_ theme: Theme) {
    if let index = themes.firstIndex(where: { $0.name == theme.name }) {
      themes[index] = theme
    } else {
      themes.append(theme)
    }
  }

  /// Parses a theme file's `text` and adds it, or records its problems.
  ///
  /// - Parameters:
  ///   - text: The file's contents.
  ///   - file: Its path, for error messages.
  public mutating func add(text: String, file: String) {
    do {
      add(try Theme.parse(text, file: file))
    } catch {
      problems.append(error)
    }
  }

  /// Adds every `*.theme` file of a folder, by file name; a folder that does not exist adds
  /// nothing and is no problem.
  ///
  /// - Parameter path: The folder.
  public mutating func addFolder(atPath path: String) {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue
    else { return }
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: path)
    } catch {
      problems.append(unreadable(path, error))
      return
    }
    for name in names.filter({ $0.hasSuffix(".theme") }).sorted() {
      let file = path + "/" + name
      do {
        add(text: try String(contentsOfFile: file, encoding: .utf8), file: file)
      } catch {
        problems.append(unreadable(file, error))
      }
    }
  }

  /// The theme named `name`, if the catalog has it.
  ///
  /// - Parameter name: A theme's name.
  public func theme(named name: String) -> Theme? {
    themes.first { $0.name == name }
  }

  /// The theme the dashboard starts with: `default` (as overridden), or the built-in one.
  public var defaultTheme: Theme {
    theme(named: Self.defaultThemeName) ?? .default
  }

  /// The theme after the one named `name`, wrapping around: what a "next theme" key shows.
  ///
  /// - Parameter name: The current theme's name; an unknown name gives the first theme.
  /// - Returns: The next theme.
  public func theme(after name: String) -> Theme {
    guard let index = themes.firstIndex(where: { $0.name == name }) else {
      return themes.first ?? .default
    }
    return themes[(index + 1) % themes.count]
  }

  private func unreadable(_ file: String, _ error: any Error) -> ThemeError {
    ThemeError(
      file: file,
      problems: [.init(file: file, line: 0, key: "", kind: .unreadable("\(error)"))]
    )
  }
}
