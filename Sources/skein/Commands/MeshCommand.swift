import ArgumentParser
import Foundation
import SkeinMesh
import SkeinRPC

/// `skein mesh`: work with mesh files (`demo/mesh.yaml`) before running them.
struct MeshCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mesh",
    abstract: "Check a mesh file: its services, clusters, instances and routes.",
    subcommands: [Check.self]
  )

  /// `skein mesh check [FILE]`.
  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Load and validate a mesh file, then summarize it or list its problems.",
      discussion: """
        Every problem is printed as FILE:LINE:COLUMN: FIELD: MESSAGE, the way compilers print \
        theirs, and the exit code is 1. A valid file gets a summary of its services, clusters, \
        instances, routes and edge load; --json prints its routes (five-tuples) instead.

        Examples:
          skein mesh check
          skein mesh check my-mesh.yaml --json
        """
    )

    @Argument(help: "The mesh file.")
    var file = "demo/mesh.yaml"

    @Flag(help: "Print the routes as JSON instead of the summary.")
    var json = false

    func run() throws {
      let mesh: MeshDescription
      do {
        mesh = try MeshLoader.load(contentsOf: file)
      } catch {
        printError("\(error)")
        throw ExitCode.failure
      }
      print(json ? try Self.routesJSON(mesh) : Self.summary(mesh, file: file))
    }

    /// The routes as a JSON array of their parts and path.
    static func routesJSON(_ mesh: MeshDescription) throws -> String {
      let routes = mesh.routes.map { route in
        [
          "from": route.from.rawValue, "from_cluster": route.fromCluster.rawValue,
          "to": route.to.rawValue, "to_cluster": route.toCluster.rawValue,
          "method": route.method, "path": route.path,
        ]
      }
      let data = try JSONSerialization.data(
        withJSONObject: routes,
        options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      )
      return String(decoding: data, as: UTF8.self)
    }

    /// A few lines a person reads to see what the mesh will run.
    static func summary(_ mesh: MeshDescription, file: String) -> String {
      let clusters = mesh.services.reduce(0) { $0 + $1.clusters.count }
      let routes = mesh.routes
      let edge = routes.filter { $0.from == mesh.load.caller }.count
      var lines = [
        "\(file): mesh '\(mesh.name)' is valid",
        "\(mesh.services.count) services, \(clusters) clusters, \(mesh.instances.count) instances, "
          + "\(routes.count) routes (\(edge) from the edge)",
      ]
      let width = mesh.services.map(\.name.rawValue.count).max() ?? 0
      for service in mesh.services {
        let name = service.name.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
        let clusters = service.clusters.map { "\($0.name)×\($0.instances)" }
        let methods = service.methods.map(\.name)
        lines.append(
          "  \(name)  \(clusters.joined(separator: " "))  \(methods.joined(separator: ", "))"
        )
      }
      let mix = mesh.load.mix.map { "\($0.call.target) \($0.weight)" }
      lines.append(
        "load: \(String(format: "%g", mesh.load.rate)) calls/s, \(mesh.load.shape.kind), as \(mesh.load.caller): "
          + mix.joined(separator: ", ")
      )
      return lines.joined(separator: "\n")
    }
  }
}
