import Foundation
import SkeinDashboard
import SkeinMetrics
import Testing

@Suite("Dashboard layout on an in-memory screen")
struct DashboardLayoutTests {
  let layout = DashboardLayout(glyphs: .unicode)

  @Test("80×24: the header, every route with its figures, the hints; nothing past the edge")
  func smallest() {
    var state = sampleState()
    for _ in 0..<5 { state.ingest(sampleStats(), at: epoch) }
    let frame = layout.render(state, width: 80, height: 24, now: epoch)
    let lines = frame.text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 24)
    #expect(lines[0].contains("social") && lines[0].contains("3/3 up"))
    #expect(lines[0].contains("memory://127.0.0.1:2380"))
    #expect(lines[2].contains("ROUTE") && lines[2].contains("BREAKER"))
    #expect(lines[3].contains("gateway/c1 → ad/c1.GetAds") && lines[3].contains("closed"))
    let columns = lines[3].split(separator: " ")
    #expect(columns[3] == "20.0" && columns[4] == "20.0", "QPS 20 and 200 of 1,000 calls failed")
    #expect(lines[23].contains("q quit") || lines[23].contains("degrade"))
    #expect(lines.allSatisfy { $0.count <= 80 })
  }

  @Test("200×60 adds the sparkline, p50, in-flight and traffic columns")
  func wide() {
    var state = sampleState()
    for qps in [10.0, 20, 30, 40] { state.ingest(sampleStats(feedQPS: qps), at: epoch) }
    let frame = layout.render(state, width: 200, height: 60, now: epoch)
    #expect(frame.line(2).contains("QPS 1m") && frame.line(2).contains("P50 MS"))
    #expect(frame.line(2).contains("INFL") && frame.line(2).contains("TRAFFIC"))
    let feed = (0..<60).map(frame.line).first { $0.contains("feed/c1.GetFeed") } ?? ""
    #expect(feed.contains("▂") || feed.contains("▄") || feed.contains("█"), "sparkline: \(feed)")
    #expect(frame.line(3).contains("c1=50,c2=50"))
  }

  @Test("below 80×24 it says so instead of drawing")
  func tooSmall() {
    let frame = layout.render(sampleState(), width: 70, height: 20, now: epoch)
    #expect(frame.text.contains("Terminal too small: 70×20"))
    #expect(frame.text.contains("needs 80×24"))
  }

  @Test("the detail pane, the nodes view, help and ASCII")
  func views() {
    var state = sampleState()
    _ = state.handle(.enter)
    let detail = layout.render(state, width: 120, height: 40, now: epoch).text
    #expect(detail.contains("latency p99") && detail.contains("latency p50"))
    #expect(detail.contains("127.0.0.1:9000"))
    #expect(detail.contains("w100"))
    _ = state.handle(.tab)
    let nodes = layout.render(state, width: 120, height: 40, now: epoch).text
    #expect(nodes.contains("ad/c1/0") && nodes.contains("TASKS") && nodes.contains("up"))
    _ = state.handle(.character("?"))
    let help = layout.render(state, width: 120, height: 40, now: epoch).text
    #expect(help.contains("Keys") && help.contains("undo the last switch flip"))
    _ = state.handle(.escape)
    _ = state.handle(.tab)
    _ = state.handle(.tab)
    let ascii = DashboardLayout(glyphs: .ascii).render(state, width: 80, height: 24, now: epoch)
    #expect(ascii.text.contains("gateway/c1 -> ad/c1.GetAds"))
    #expect(ascii.text.unicodeScalars.allSatisfy { $0.isASCII })
  }
}
