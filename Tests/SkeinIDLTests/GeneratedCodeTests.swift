import Foundation
import SkeinIDL
import Testing

/// The demo IDL's generated code is committed; regenerating it must change nothing.
@Suite struct GeneratedCodeTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  @Test func committedDemoCodeIsUpToDate() throws {
    // Every IDL file of the demo, so a file added there is covered without editing this test.
    let folder = Self.root.appending(path: "demo/idl")
    let idl = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".thrift") }.sorted().map { folder.appending(path: $0).path }
    let program = try IDLProgram.load(files: idl)
    let files = try SwiftGenerator(program: program, accessLevel: .public).generate()
    let generated = Self.root.appending(path: "Sources/SkeinDemoIDL/Generated")
    let committed = try FileManager.default.contentsOfDirectory(atPath: generated.path).sorted()
    #expect(committed == files.map(\.name).sorted(), "files in Sources/SkeinDemoIDL/Generated")
    for file in files {
      let existing = try String(contentsOf: generated.appending(path: file.name), encoding: .utf8)
      #expect(
        existing == file.contents,
        """
        \(file.name) is stale; regenerate with:
        swift run skein gen demo/idl/*.thrift --out Sources/SkeinDemoIDL/Generated
        """
      )
    }
  }
}
