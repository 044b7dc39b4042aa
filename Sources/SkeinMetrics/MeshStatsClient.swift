public import AsyncHTTPClient
import Foundation
public import NIOCore
import NIOHTTP1
public import SkeinGovernance
public import SkeinHTTP
public import SkeinRPC
import SkeinThrift
import Synchronization

/// Reads nodes' admin endpoints and merges what they say into ``MeshStats``: once
/// (``collect(_:)``, what `skein stats` prints) or live (``watch(_:every:onUpdate:)``, what
/// `skein stats --watch` and the dashboard show).
public struct MeshStatsClient: Sendable {
  /// The HTTP client; the shared one by default.
  public let http: HTTPClient
  /// How long one node may take to answer before it counts as down (default 2 s).
  public let timeout: Duration
  /// The token the nodes' admin endpoints ask for, when they listen beyond loopback.
  public let token: AccessToken?

  /// Creates a client.
  public init(
    http: HTTPClient = .shared,
    timeout: Duration = .seconds(2),
    token: AccessToken? = nil
  ) {
    self.http = http
    self.timeout = timeout
    self.token = token
  }

  /// A GET of `path` on `node`, with the token when there is one.
  private func request(_ node: InstanceAddress, _ path: String) -> HTTPClientRequest {
    var request = HTTPClientRequest(url: "http://\(node)\(path)")
    if let token {
      request.headers.add(name: "Authorization", value: "Bearer \(token.headerValue)")
    }
    return request
  }

  /// Asks every node for its last snapshot at once; a node that does not answer is listed as
  /// down under its address.
  public func collect(_ nodes: [InstanceAddress]) async -> MeshStats {
    let results = await withTaskGroup(of: (InstanceAddress, NodeSnapshot?).self) { group in
      for node in nodes {
        group.addTask { (node, try? await self.snapshot(of: node)) }
      }
      return await group.reduce(into: []) { $0.append($1) }
    }
    return MeshStats(
      snapshots: results.compactMap(\.1),
      down: results.filter { $0.1 == nil }.map { Self.down($0.0) }
    )
  }

  /// Asks the admin endpoint of every registered instance that has one; an instance that does
  /// not answer is listed down under its registered service, cluster and id (a killed node
  /// stays registered until its lease lapses).
  public func collect(registered instances: [ServiceInstance]) async -> MeshStats {
    let byAdmin = Dictionary(
      instances.compactMap { instance in instance.adminAddress.map { ($0, instance) } },
      uniquingKeysWith: { first, _ in first }
    )
    var stats = await collect(byAdmin.keys.sorted())
    for index in stats.nodes.indices where !stats.nodes[index].up {
      guard let address = try? InstanceAddress(parsing: stats.nodes[index].address ?? ""),
        let instance = byAdmin[address]
      else { continue }
      stats.nodes[index].service = instance.service
      stats.nodes[index].cluster = instance.cluster
      stats.nodes[index].instance = instance.id
      stats.nodes[index].address = instance.address.description
    }
    stats.nodes.sort {
      ($0.service, $0.cluster, $0.instance) < ($1.service, $1.cluster, $1.instance)
    }
    return stats
  }

  /// One node's last snapshot.
  ///
  /// - Throws: The connection error, a status other than 200, or a body that is not a snapshot.
  public func snapshot(of node: InstanceAddress) async throws -> NodeSnapshot {
    let response = try await http.execute(
      request(node, "/snapshot"),
      timeout: .nanoseconds(timeout.nanoseconds)
    )
    let body = try await response.body.collect(upTo: Self.maxSnapshotBytes)
    guard response.status == .ok else {
      throw MetricsClientError("\(node) answered /snapshot with \(response.status)")
    }
    return try JSONDecoder().decode(NodeSnapshot.self, from: Data(body.readableBytesView))
  }

  /// A snapshot line larger than this is refused: 16 MiB, thousands of routes.
  public static let maxSnapshotBytes = 16 << 20

  /// Subscribes to every node's `/stream` and reports the merged view every `interval` until
  /// cancelled. The node list may change at any time (from the registry): new nodes are
  /// subscribed, removed ones dropped; a node whose stream breaks is shown down with its last
  /// identity and resubscribed with backoff.
  public func watch<Nodes: AsyncSequence & Sendable>(
    _ nodes: Nodes,
    every interval: Duration = .seconds(1),
    onUpdate: @escaping @Sendable (MeshStats) -> Void
  ) async where Nodes.Element == [InstanceAddress] {
    let latest = Board()
    let readers = Mutex<[InstanceAddress: Task<Void, Never>]>([:])
    await withDiscardingTaskGroup { group in
      group.addTask {
        var merger = MeshStatsMerger()
        while !Task.isCancelled {
          try? await Task.sleep(for: interval)
          let views = latest.views.withLock { Array($0.values) }
          onUpdate(
            merger.merge(
              views.filter(\.up).compactMap(\.snapshot),
              down: views.filter { !$0.up }.map(\.stats)
            )
          )
        }
      }
      do {
        for try await wanted in nodes {
          let wanted = Set(wanted)
          let (started, stopped) = readers.withLock {
            readers -> ([InstanceAddress], [Task<Void, Never>]) in
            let stopped = readers.filter { !wanted.contains($0.key) }
            for node in stopped.keys { readers[node] = nil }
            let new = wanted.filter { readers[$0] == nil }
            return (Array(new), Array(stopped.values))
          }
          for task in stopped { task.cancel() }
          latest.views.withLock { views in views = views.filter { wanted.contains($0.key) } }
          for node in started {
            // One reader per node, cancelled when the node leaves the list: a task group cannot
            // cancel one child, so these are tasks this loop keeps and ends itself.
            let task = Task { await self.follow(node, into: latest) }
            readers.withLock { $0[node] = task }
          }
        }
      } catch {
        // The node list ended with an error (the registry is gone): keep the last list.
      }
      await withTaskCancellationHandler {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
      } onCancel: {
        for task in readers.withLock({ Array($0.values) }) { task.cancel() }
      }
      group.cancelAll()
    }
  }

  /// Reads one node's stream into `latest` until cancelled, reconnecting with backoff.
  private func follow(_ node: InstanceAddress, into latest: Board) async {
    var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5))
    while !Task.isCancelled {
      do {
        let response = try await http.execute(
          request(node, "/stream?format=thrift"),
          deadline: .distantFuture
        )
        guard response.status == .ok else {
          throw MetricsClientError("\(node) answered /stream with \(response.status)")
        }
        // A node from before the Thrift format ignores the query and sends JSON lines.
        let thrift =
          response.headers.first(name: "Content-Type") == StreamFormat.thrift.contentType
        var pending = ByteBuffer()
        for try await chunk in response.body {
          pending.writeImmutableBuffer(chunk)
          while let snapshot = try (thrift ? Self.nextFrame : Self.nextLine)(&pending) {
            latest.views.withLock {
              $0[node] = NodeView(address: node, snapshot: snapshot, up: true)
            }
            backoff.reset()
          }
          guard pending.readableBytes <= Self.maxSnapshotBytes else {
            throw MetricsClientError(
              "\(node) sent a snapshot longer than \(Self.maxSnapshotBytes) bytes"
            )
          }
          pending.discardReadBytes()
        }
        throw MetricsClientError("\(node) ended its stream")
      } catch {
        latest.views.withLock { views in
          views[node] = NodeView(address: node, snapshot: views[node]?.snapshot, up: false)
        }
        try? await Task.sleep(for: backoff.next())
      }
    }
  }

  /// The next whole framed Thrift snapshot in `pending` (as `/stream?format=thrift` sends
  /// them), consumed; `nil` until one has arrived whole.
  public static func nextFrame(_ pending: inout ByteBuffer) throws -> NodeSnapshot? {
    guard let length = pending.getInteger(at: pending.readerIndex, as: UInt32.self) else {
      return nil
    }
    guard length <= maxSnapshotBytes else {
      throw MetricsClientError("a snapshot frame of \(length) bytes is over the limit")
    }
    guard pending.readableBytes >= 4 + Int(length) else { return nil }
    pending.moveReaderIndex(forwardBy: 4)
    guard let frame = pending.readSlice(length: Int(length)) else { return nil }
    return try NodeSnapshot(decoding: frame)
  }

  /// The next whole JSON snapshot line in `pending`, or `nil` until one has arrived.
  static func nextLine(_ pending: inout ByteBuffer) throws -> NodeSnapshot? {
    guard let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")),
      let line = pending.readSlice(length: newline - pending.readerIndex + 1)
    else { return nil }
    return try JSONDecoder().decode(NodeSnapshot.self, from: Data(line.readableBytesView))
  }

  /// The nodes as last heard of, shared by their readers and the reporting tick.
  final class Board: Sendable {
    let views = Mutex<[InstanceAddress: NodeView]>([:])
  }

  /// A node as last heard of.
  struct NodeView {
    var address: InstanceAddress
    var snapshot: NodeSnapshot?
    var up: Bool

    var stats: NodeStats {
      var stats = snapshot?.node ?? MeshStatsClient.down(address)
      stats.up = up
      if !up { stats.tasks = 0 }
      return stats
    }
  }

  /// A node that never answered, named by its address.
  static func down(_ address: InstanceAddress) -> NodeStats {
    NodeStats(
      service: "?",
      cluster: "?",
      instance: address.description,
      address: address.description,
      tasks: 0,
      tasksPeak: 0,
      rssBytes: 0,
      cpuPercent: 0,
      up: false
    )
  }
}

/// A node's admin endpoint did not give a snapshot.
public struct MetricsClientError: Error, CustomStringConvertible {
  /// What went wrong.
  public var description: String

  init(_ description: String) { self.description = description }
}
