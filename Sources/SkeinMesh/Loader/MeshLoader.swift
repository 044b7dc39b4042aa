public import SkeinIDL
import Yams

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Reads a mesh file and checks it whole: its shape, every range and name, every reference
/// between services, call cycles and depth, and each method against its service's IDL.
///
/// All problems come back together in one ``MeshValidationError``, each placed at its file,
/// line, column and field, so a person fixes a file in one pass.
public enum MeshLoader {
  /// Loads and checks the mesh file at `path`; its IDL folder is found next to it.
  ///
  /// - Throws: ``MeshValidationError`` with every problem found.
  public static func load(contentsOf path: String, limits: MeshLimits = MeshLimits())
    throws(MeshValidationError) -> MeshDescription
  {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw MeshValidationError(errors: [
        MeshError(file: path, line: nil, column: nil, field: "", message: "cannot read the file")
      ])
    }
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    return try load(
      yaml: String(decoding: data, as: UTF8.self),
      file: path,
      folder: folder,
      limits: limits
    )
  }

  /// Loads and checks a mesh document.
  ///
  /// - Parameters:
  ///   - yaml: The document.
  ///   - file: The name errors give it.
  ///   - folder: The folder `idl_dir` is relative to (the file's own).
  ///   - limits: The bounds the mesh must stay within.
  ///   - idlReader: How IDL files are read; the file system by default.
  /// - Throws: ``MeshValidationError`` with every problem found.
  public static func load(
    yaml: String,
    file: String,
    folder: String,
    limits: MeshLimits = MeshLimits(),
    idlReader: @escaping IDLProgram.FileReader = IDLProgram.readFromDisk
  ) throws(MeshValidationError) -> MeshDescription {
    let root: Node
    do {
      guard let node = try Yams.compose(yaml: yaml) else {
        throw MeshValidationError(errors: [
          MeshError(file: file, line: 1, column: 1, field: "", message: "the file is empty")
        ])
      }
      root = node
    } catch let error as MeshValidationError {
      throw error
    } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
      throw MeshValidationError(errors: [
        duplicateKey(duplicates.first ?? "", firstAt: context.mark, in: yaml, file: file)
      ])
    } catch {
      throw MeshValidationError(errors: [syntaxError(error, file: file)])
    }
    var decoder = MeshDecoder(reader: YAMLReader(file: file), limits: limits)
    let mesh = decoder.decode(YAMLValue(node: root, path: ""))
    guard let mesh, decoder.reader.errors.isEmpty else {
      throw MeshValidationError(errors: decoder.reader.errors)
    }
    let idlFolder =
      decoder.idlFolder.hasPrefix("/")
      ? decoder.idlFolder : URL(fileURLWithPath: folder).appending(path: decoder.idlFolder).path
    var validator = MeshValidator(
      mesh: mesh,
      reader: decoder.reader,
      limits: limits,
      idlFolder: idlFolder,
      idlReader: idlReader
    )
    validator.validate()
    guard validator.reader.errors.isEmpty else {
      // Checks run topic by topic; a person reads the file top to bottom.
      let errors = validator.reader.errors.enumerated().sorted { lhs, rhs in
        let left = (lhs.element.line ?? 0, lhs.element.column ?? 0, lhs.offset)
        let right = (rhs.element.line ?? 0, rhs.element.column ?? 0, rhs.offset)
        return left < right
      }
      throw MeshValidationError(errors: errors.map(\.element))
    }
    return mesh
  }

  /// A YAML syntax error, placed where libyaml found it.
  static func syntaxError(_ error: any Error, file: String) -> MeshError {
    let place: (Mark, String)? =
      switch error as? YamlError {
      case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
        .composer(_, let problem, let mark, _):
        (mark, "YAML syntax: \(problem)")
      default: nil
      }
    return MeshError(
      file: file,
      line: place?.0.line,
      column: place?.0.column,
      field: "",
      message: place?.1 ?? "YAML: \(error)"
    )
  }

  /// A key given twice in one mapping. libyaml points at the first; in block style (how mesh
  /// files are written) the second is found by its indentation, since that is the one a person
  /// just added, and the mapping's path by the keys of the less indented lines above.
  static func duplicateKey(_ key: String, firstAt mark: Mark, in yaml: String, file: String)
    -> MeshError
  {
    let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let indent = mark.column - 1
    func indentation(_ line: String) -> Int? {
      let trimmed = line.drop { $0 == " " }
      return trimmed.isEmpty || trimmed.hasPrefix("#") ? nil : line.count - trimmed.count
    }
    func keyName(of line: String) -> String? {
      let trimmed = line.drop { $0 == " " }
      guard let colon = trimmed.firstIndex(of: ":"), !trimmed.hasPrefix("-") else { return nil }
      return String(trimmed[..<colon])
    }
    let message = "'\(key)' is given twice; each name may appear once"
    guard mark.line >= 1, mark.line <= lines.count, indentation(lines[mark.line - 1]) == indent
    else {
      // Flow style (`{c1: 2, c1: 2}`): libyaml's place is all there is.
      return MeshError(
        file: file,
        line: mark.line,
        column: mark.column,
        field: "",
        message: message
      )
    }
    var place = (line: mark.line, column: mark.column)
    for index in mark.line..<lines.count {
      guard let depth = indentation(lines[index]) else { continue }
      if depth < indent { break }
      if depth == indent, keyName(of: lines[index]) == key {
        place = (index + 1, mark.column)
        break
      }
    }
    var parents: [String] = []
    var depth = indent
    for line in lines.prefix(mark.line - 1).reversed() {
      guard let lineDepth = indentation(line), lineDepth < depth else { continue }
      guard let parent = keyName(of: line) else {
        parents = []
        break
      }
      parents.insert(parent, at: 0)
      depth = lineDepth
      if depth == 0 { break }
    }
    return MeshError(
      file: file,
      line: place.line,
      column: place.column,
      field: (parents + [key]).joined(separator: "."),
      message: "\(message) (first at line \(mark.line))"
    )
  }
}
