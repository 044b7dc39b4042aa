import ArgumentParser
import SkeinGenCommand

/// The `skein` command line.
@main
struct Skein: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "skein",
    abstract:
      "A Thrift RPC framework for Swift and the dashboard that steers a mesh built with it.",
    subcommands: [
      DemoCommand.self, TopCommand.self, StatsCommand.self, ControlCommand.self, StoreCommand.self,
      NodeCommand.self, LoadCommand.self, ExampleCommand.self, MeshCommand.self,
      GenerateCommand.self,
    ]
  )
}
