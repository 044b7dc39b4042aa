public import Foundation

/// Text files built into the package as Swift string literals (the demo mesh, the themes),
/// so a binary needs no files beside it. A test generates the Swift source from the files and
/// checks it against the committed copy.
public struct EmbeddedFiles {
  /// The enum the source declares, with one `static let files: [String: String]`.
  public var enumName: String
  /// Its doc comment, without the `///`.
  public var documentation: String
  /// Where the files come from, as the header names it (`demo/`).
  public var origin: String
  /// The test that generates the source, as the header names it for `--filter`.
  public var test: String
  /// Where the generated source is committed, relative to the package root.
  public var path: String

  /// Describes a generated file.
  public init(
    enumName: String,
    documentation: String,
    origin: String,
    test: String,
    path: String
  ) {
    self.enumName = enumName
    self.documentation = documentation
    self.origin = origin
    self.test = test
    self.path = path
  }

  /// The Swift source embedding `files`, by key, in key order.
  public func source(embedding files: [String: String]) -> String {
    var lines = [
      "// Generated from \(origin) by \(test). Do not edit: change \(origin) and regenerate with",
      "// \(regenerate)",
      "// swift-format-ignore-file",
      "",
      "/// \(documentation)",
      "enum \(enumName) {",
      "  static let files: [String: String] = [",
    ]
    for (key, text) in files.sorted(by: { $0.key < $1.key }) {
      lines.append("\"\(key)\": ##\"\"\"")
      lines.append(text)
      lines.append("\"\"\"##,")
    }
    lines += ["  ]", "}", ""]
    return lines.joined(separator: "\n")
  }

  /// The command that rewrites the committed copy.
  public var regenerate: String { "SKEIN_REGENERATE=1 swift test --filter \(test)" }

  /// Whether the committed copy under `root` is `source`; with `SKEIN_REGENERATE=1` it is
  /// written first.
  public func isCommitted(_ source: String, root: URL) throws -> Bool {
    let file = root.appending(path: path)
    if ProcessInfo.processInfo.environment["SKEIN_REGENERATE"] == "1" {
      try source.write(to: file, atomically: true, encoding: .utf8)
    }
    return (try? String(contentsOf: file, encoding: .utf8)) == source
  }
}
