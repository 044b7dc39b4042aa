import Yams

/// A YAML node and the path that leads to it (`services.feed.methods.GetFeed.calls[1]`).
struct YAMLValue {
  /// The node.
  var node: Node
  /// Its path in the document, the `field` of errors about it.
  var path: String

  /// The path of a named child.
  func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// Reads a YAML document strictly and remembers where each field is.
///
/// Every problem is collected rather than thrown, so one run reports all of them; every field
/// read records its line and column, so checks made later on the decoded model can still point
/// into the file (``error(at:_:)``).
struct YAMLReader {
  /// The file, for error messages.
  let file: String
  /// The problems found so far.
  private(set) var errors: [MeshError] = []
  /// Line and column of each path read.
  private var marks: [String: Mark] = [:]

  init(file: String) {
    self.file = file
  }

  // MARK: Errors

  /// Records a problem at a node.
  mutating func error(_ value: YAMLValue, _ message: String) {
    record(value.path, message, mark: value.node.mark ?? marks[value.path])
  }

  /// Records a problem at a path read earlier; a path never read (a default) is placed at its
  /// nearest parent that was.
  mutating func error(at path: String, _ message: String) {
    var prefix = Substring(path)
    while marks[String(prefix)] == nil,
      let cut = prefix.lastIndex(where: { $0 == "." || $0 == "[" })
    {
      prefix = prefix[..<cut]
    }
    record(path, message, mark: marks[String(prefix)])
  }

  /// Records a problem with a known mark.
  mutating func record(_ path: String, _ message: String, mark: Mark?) {
    errors.append(
      MeshError(file: file, line: mark?.line, column: mark?.column, field: path, message: message)
    )
  }

  // MARK: Structure

  /// The fields of a mapping with a fixed set of keys. Unknown keys and missing required keys are
  /// errors: a typo in a key must not be silently ignored.
  mutating func fields(_ value: YAMLValue, allowed: [String], required: [String] = [])
    -> [String: YAMLValue]?
  {
    guard let pairs = entries(value) else { return nil }
    var fields: [String: YAMLValue] = [:]
    for (key, child) in pairs {
      guard allowed.contains(key) else {
        let known = allowed.joined(separator: ", ")
        record(child.path, "unknown key '\(key)' (known: \(known))", mark: marks[child.path])
        continue
      }
      // A fixed key's value is what a problem is about, so it is placed there.
      marks[child.path] = child.node.mark ?? marks[child.path]
      fields[key] = child
    }
    for key in required where fields[key] == nil {
      record(value.path(key), "required, but missing", mark: value.node.mark)
    }
    return fields
  }

  /// The entries of a mapping whose keys are names (services, clusters, methods), in the file's
  /// order. An entry's place is its key, where a person looks for the name.
  mutating func entries(_ value: YAMLValue) -> [(String, YAMLValue)]? {
    note(value)
    guard case .mapping(let mapping) = value.node else {
      error(value, "expected a mapping, found \(describe(value.node))")
      return nil
    }
    var entries: [(String, YAMLValue)] = []
    for (key, node) in mapping {
      guard case .scalar(let scalar) = key else {
        error(YAMLValue(node: key, path: value.path), "keys must be plain text")
        continue
      }
      let child = YAMLValue(node: node, path: value.path(scalar.string))
      marks[child.path] = key.mark
      entries.append((scalar.string, child))
    }
    return entries
  }

  /// The items of a sequence; an empty value (`calls:`) is an empty list.
  mutating func sequence(_ value: YAMLValue) -> [YAMLValue]? {
    note(value)
    if isNull(value.node) { return [] }
    guard case .sequence(let sequence) = value.node else {
      error(value, "expected a list, found \(describe(value.node))")
      return nil
    }
    return sequence.enumerated().map { index, node in
      let item = YAMLValue(node: node, path: "\(value.path)[\(index)]")
      note(item)
      return item
    }
  }

  // MARK: Scalars

  /// A text value.
  mutating func string(_ value: YAMLValue) -> String? {
    note(value)
    guard case .scalar(let scalar) = value.node, !isNull(value.node) else {
      error(value, "expected text, found \(describe(value.node))")
      return nil
    }
    return scalar.string
  }

  /// A whole number within `range`.
  mutating func int(_ value: YAMLValue, in range: ClosedRange<Int>) -> Int? {
    note(value)
    guard case .scalar = value.node, let number = value.node.int else {
      error(value, "expected a whole number, found \(describe(value.node))")
      return nil
    }
    guard range.contains(number) else {
      error(value, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
      return nil
    }
    return number
  }

  /// A number within `range`.
  mutating func double(_ value: YAMLValue, in range: ClosedRange<Double>) -> Double? {
    note(value)
    guard case .scalar = value.node, let number = value.node.float, number.isFinite else {
      error(value, "expected a number, found \(describe(value.node))")
      return nil
    }
    guard range.contains(number) else {
      error(
        value,
        "\(format(number)) is out of range \(format(range.lowerBound))...\(format(range.upperBound))"
      )
      return nil
    }
    return number
  }

  // MARK: Helpers

  /// Remembers where a value is, keeping the key's place when the entry recorded one.
  private mutating func note(_ value: YAMLValue) {
    if marks[value.path] == nil { marks[value.path] = value.node.mark }
  }

  private func isNull(_ node: Node) -> Bool {
    guard case .scalar(let scalar) = node else { return false }
    return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
  }

  /// How a node is named in "expected X, found Y".
  private func describe(_ node: Node) -> String {
    switch node {
    case .mapping: "a mapping"
    case .sequence: "a list"
    case .alias: "an alias"
    case .scalar(let scalar): isNull(node) ? "nothing" : "'\(scalar.string)'"
    }
  }
}

/// A number without a needless `.0`.
func format(_ number: Double) -> String {
  number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
}
