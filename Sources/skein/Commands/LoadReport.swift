import Foundation
import SkeinDemoIDL
import SkeinRPC

/// The outcome of many calls: counts, throughput and latency percentiles.
struct LoadReport {
  var calls: Int
  var errors: Int
  var seconds: Double
  /// Successful calls' latencies in nanoseconds, sorted.
  var latencies: [Int64]
  var errorCounts: [String: Int]
  var firstResult: ExampleResponse?
  var firstError: String?

  /// Runs `count` calls with `concurrency` in flight and measures each.
  static func measure(
    count: Int,
    concurrency: Int,
    call: @escaping @Sendable () async throws -> ExampleResponse
  ) async -> LoadReport {
    let workers = min(concurrency, count)
    let start = ContinuousClock.now
    let parts = await withTaskGroup(of: LoadReport.self) { group in
      for worker in 0..<workers {
        let share = count / workers + (worker < count % workers ? 1 : 0)
        group.addTask {
          var part = LoadReport(calls: 0, errors: 0, seconds: 0, latencies: [], errorCounts: [:])
          part.latencies.reserveCapacity(share)
          for _ in 0..<share {
            let began = ContinuousClock.now
            do {
              let response = try await call()
              part.latencies.append((ContinuousClock.now - began).nanoseconds)
              if part.firstResult == nil { part.firstResult = response }
            } catch {
              part.errors += 1
              let kind = (error as? RPCError)?.code.name ?? "other"
              part.errorCounts[kind, default: 0] += 1
              if part.firstError == nil { part.firstError = "\(error)" }
            }
            part.calls += 1
          }
          return part
        }
      }
      var parts: [LoadReport] = []
      for await part in group { parts.append(part) }
      return parts
    }
    var total = LoadReport(calls: 0, errors: 0, seconds: 0, latencies: [], errorCounts: [:])
    for part in parts {
      total.calls += part.calls
      total.errors += part.errors
      total.latencies += part.latencies
      total.errorCounts.merge(part.errorCounts, uniquingKeysWith: +)
      total.firstResult = total.firstResult ?? part.firstResult
      total.firstError = total.firstError ?? part.firstError
    }
    total.latencies.sort()
    let elapsed = ContinuousClock.now - start
    total.seconds = elapsed / .seconds(1)
    return total
  }

  /// The latency at percentile `p` (0–100) in milliseconds, 0 with no successes.
  func percentile(_ p: Double) -> Double {
    nearestRank(latencies, percent: p).map { Double($0) / 1e6 } ?? 0
  }

  var qps: Double { seconds > 0 ? Double(calls - errors) / seconds : 0 }

  /// One JSON object with the fields scripts read.
  var json: String {
    func number(_ value: Double) -> String { String(format: "%.3f", value) }
    return """
      {"calls":\(calls),"errors":\(errors),"seconds":\(number(seconds)),"qps":\(number(qps)),\
      "p50_ms":\(number(percentile(50))),"p99_ms":\(number(percentile(99))),\
      "p999_ms":\(number(percentile(99.9)))}
      """
  }

  /// The table a person reads.
  var table: String {
    var lines = [
      "calls \(calls)  errors \(errors)  seconds \(String(format: "%.3f", seconds))  qps \(String(format: "%.0f", qps))",
      "latency ms  p50 \(String(format: "%.3f", percentile(50)))  p90 \(String(format: "%.3f", percentile(90)))  p99 \(String(format: "%.3f", percentile(99)))  p999 \(String(format: "%.3f", percentile(99.9)))  max \(String(format: "%.3f", percentile(100)))",
    ]
    if !errorCounts.isEmpty {
      let kinds = errorCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
      lines.append("errors by kind: " + kinds.joined(separator: ", "))
    }
    if let firstError { lines.append("first error: \(firstError)") }
    return lines.joined(separator: "\n")
  }
}

/// The value at percentile `percent` (0–100) of ascending `sorted` values, by nearest rank;
/// `nil` for no values.
func nearestRank<Value>(_ sorted: [Value], percent: Double) -> Value? {
  guard !sorted.isEmpty else { return nil }
  let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up)) - 1
  return sorted[min(max(rank, 0), sorted.count - 1)]
}
