import ArgumentParser

/// `skein-bench`: Skein's benchmarks, each measured beside a peer in the same run.
@main
struct SkeinBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "skein-bench",
    abstract: "Benchmarks of Skein beside its peers, measured in the same run.",
    subcommands: [
      CodecBenchmark.self, EchoBenchmark.self, PropagationBenchmark.self, MetricsBenchmark.self,
      StreamBenchmark.self, StreamNodes.self, DashboardBenchmark.self,
    ]
  )
}
