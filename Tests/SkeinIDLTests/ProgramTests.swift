import SkeinIDL
import Testing

/// Loads in-memory files: `files[path]` is a file's text.
private func load(_ roots: [String], _ files: [String: String], includePaths: [String] = [])
  throws -> IDLProgram
{
  try IDLProgram.load(files: roots, includePaths: includePaths) { files[$0] }
}

/// The error loading fails with, as a compiler would print it.
private func loadError(_ roots: [String], _ files: [String: String]) -> String? {
  do {
    _ = try load(roots, files)
    return nil
  } catch let error as IDLError {
    return error.description
  } catch {
    return "unexpected \(error)"
  }
}

@Suite struct ProgramTests {
  @Test func resolvesIncludesAndTypedefs() throws {
    let program = try load(
      ["idl/svc.thrift"],
      [
        "idl/svc.thrift": """
        include "common/base.thrift"
        typedef base.Ids Ids
        struct Req { 1: Ids ids, 2: base.Kind kind = base.Kind.B, 3: base.Base base }
        service S extends base.Root { void f(1: Req r) }
        """,
        "idl/common/base.thrift": """
        typedef list<i64> Ids
        enum Kind { A, B }
        struct Base { 1: string LogID }
        service Root { void ping() }
        """,
      ]
    )
    #expect(program.documents.map(\.module) == ["base", "svc"])
    #expect(program.roots.map(\.module) == ["svc"])
    let svc = try #require(program.document(module: "svc"))
    let ids = try program.resolve(
      .named("Ids", SourceLocation(file: "x", line: 1, column: 1)),
      in: svc
    )
    let baseIds = QualifiedName(module: "base", name: "Ids")
    #expect(
      ids == .typedef(QualifiedName(module: "svc", name: "Ids"), .typedef(baseIds, .list(.i64)))
    )
    #expect(ids.underlying == .list(.i64))
    let at = SourceLocation(file: "x", line: 1, column: 1)
    guard
      case .enumCase(let name, let kindB) = try program.resolveConstant(
        "base.Kind.B",
        in: svc,
        at: at
      )
    else {
      Issue.record("base.Kind.B is an enum case")
      return
    }
    #expect(name == QualifiedName(module: "base", name: "Kind") && kindB.value == 1)
    #expect(try program.service(named: "base.Root", in: svc, at: at).0.name == "Root")
  }

  @Test func includePathsAreSearchedAfterTheIncludingFolder() throws {
    let program = try load(
      ["a/main.thrift"],
      [
        "a/main.thrift": "include \"shared.thrift\"\nstruct M { 1: shared.S s }",
        "lib/shared.thrift": "struct S {}",
      ],
      includePaths: ["lib"]
    )
    #expect(program.documents.map(\.path) == ["lib/shared.thrift", "a/main.thrift"])
  }

  @Test(arguments: [
    (
      ["m.thrift": "struct A { 1: Missing m }"],
      "m.thrift:1:15: error: unknown type 'Missing'"
    ),
    (
      ["m.thrift": "struct A { 1: other.T m }"],
      "m.thrift:1:15: error: unknown type 'other.T': 'other' is not included; add include \"other.thrift\""
    ),
    (
      ["m.thrift": "include \"nope.thrift\"\nstruct A {}"],
      "m.thrift:1:1: error: cannot find included file 'nope.thrift' (looked for nope.thrift)"
    ),
    (
      ["m.thrift": "include \"n.thrift\"", "n.thrift": "include \"m.thrift\""],
      "n.thrift:1:1: error: include cycle: m -> n -> m"
    ),
    (
      ["m.thrift": "typedef B A\ntypedef A B\nstruct S { 1: A a }"],
      "m.thrift:2:11: error: typedef 'B' refers to itself"
    ),
    (
      ["m.thrift": "const i32 X = 1\nstruct S { 1: X x }"],
      "m.thrift:2:15: error: 'X' is a constant, not a type"
    ),
    (
      ["m.thrift": "union U { 1: required i32 a }"],
      "m.thrift:1:27: error: union field 'a' cannot be required: a union sets exactly one field"
    ),
    (
      ["m.thrift": "struct NotAnError {}\nservice S { void f() throws (1: NotAnError e) }"],
      "m.thrift:2:44: error: 'NotAnError' in throws of 'f' is not an exception"
    ),
    (
      ["m.thrift": "service A extends B { void f() }\nservice B extends A { void g() }"],
      "m.thrift:1:9: error: service 'A' extends itself through 'A'"
    ),
    (
      ["m.thrift": "service A { void f() }\nservice B extends A { void f() }"],
      "m.thrift:2:28: error: function 'f' is already defined by service 'A', which 'B' extends"
    ),
    (
      ["m.thrift": "service A extends Nope {}"],
      "m.thrift:1:9: error: unknown service 'Nope'"
    ),
  ])
  func semanticErrors(files: [String: String], expected: String) {
    #expect(loadError(["m.thrift"], files) == expected)
  }

  @Test func missingRootFile() {
    #expect(
      loadError(["gone.thrift"], [:])
        == "gone.thrift:1:1: error: cannot read 'gone.thrift': no such file"
    )
  }

  @Test func twoFilesWithOneModuleName() {
    let error = loadError(
      ["m.thrift"],
      [
        "m.thrift": "include \"a/x.thrift\"\ninclude \"b/x.thrift\"", "a/x.thrift": "",
        "b/x.thrift": "",
      ]
    )
    #expect(
      error
        == "b/x.thrift:1:1: error: 'b/x.thrift' and 'a/x.thrift' both define module 'x'; rename one"
    )
  }
}
