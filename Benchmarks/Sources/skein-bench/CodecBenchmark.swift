import ArgumentParser
import Foundation
import NIOCore
import SkeinDemoIDL
import SkeinThrift

/// Encode and decode of `ExampleRequest` (1 KiB Name, 10-entry `Base.Extra`) with Skein's
/// codec beside Apache Thrift's C++ library (TBinaryProtocol over TMemoryBuffer).
struct CodecBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "codec",
    abstract: "Thrift binary codec: Skein vs Apache Thrift C++."
  )

  @Option(help: "Messages per measured round.")
  var iterations = 1_000_000

  @Flag(help: "Print one JSON object instead of the table.")
  var json = false

  @Flag(help: "Measure Skein only (no C++ peer).")
  var skipPeer = false

  /// The request both sides encode: the same field values as codec_bench.cpp.
  static func request() -> ExampleRequest {
    var extra: [String: String] = [:]
    for i in 0..<10 { extra["key-\(i)"] = "value-\(i)" }
    return ExampleRequest(
      name: String(repeating: "n", count: 1024),
      id64: 1_234_567_890_123,
      id32: 42,
      base: Base(logID: "20261125-0001-demo-logid", caller: "gateway", extra: extra)
    )
  }

  func run() throws {
    let request = Self.request()
    let encoded = request.encoded()
    let size = encoded.readableBytes

    var writer = ThriftBinaryWriter(capacity: 4096)
    let encodeNanoseconds = nanosecondsPerIteration(iterations: iterations) { count in
      for _ in 0..<count {
        writer.clear()
        request.write(to: &writer)
      }
      blackHole(writer.count)
    }
    var checksum = 0
    let decodeNanoseconds = try nanosecondsPerIteration(iterations: iterations) { count in
      for _ in 0..<count {
        var reader = ThriftBinaryReader(buffer: encoded)
        let decoded = try ExampleRequest(from: &reader)
        checksum &+= Int(decoded.id32)
      }
    }
    blackHole(checksum)

    var peer: [String: Double]?
    if !skipPeer {
      let folder = try PeerProcess.buildThriftPeers()
      let output = try PeerProcess.run(
        folder.appendingPathComponent("thrift-codec-bench").path,
        [String(iterations)]
      )
      let object =
        try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
      peer = object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
      if let peerBytes = peer?["bytes"], Int(peerBytes) != size {
        throw PeerError(
          "the C++ peer encoded \(Int(peerBytes)) bytes, Skein \(size): not the same message"
        )
      }
    }

    if json {
      var object: [String: Any] = [
        "message_bytes": size, "iterations": iterations,
        "skein_encode_ns": encodeNanoseconds, "skein_decode_ns": decodeNanoseconds,
      ]
      if let peer {
        object["cpp_encode_ns"] = peer["encode_ns"]
        object["cpp_decode_ns"] = peer["decode_ns"]
        object["cpp_decode_reuse_ns"] = peer["decode_reuse_ns"]
      }
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
      return
    }

    print(
      "Codec: ExampleRequest, \(size) bytes (1 KiB Name, 10-entry Base.Extra), best of 5 rounds of \(iterations)"
    )
    print("")
    print("                                     encode ns   encode MB/s   decode ns   decode MB/s")
    func row(_ name: String, _ encode: Double, _ decode: Double) {
      print(
        name.padding(toLength: 34, withPad: " ", startingAt: 0)
          + padded(fixed(encode), 12)
          + padded(fixed(megabytesPerSecond(bytes: size, nanoseconds: encode), 0), 14)
          + padded(fixed(decode), 12)
          + padded(fixed(megabytesPerSecond(bytes: size, nanoseconds: decode), 0), 14)
      )
    }
    row("Skein (Swift)", encodeNanoseconds, decodeNanoseconds)
    if let peer, let encode = peer["encode_ns"], let decode = peer["decode_ns"],
      let reuse = peer["decode_reuse_ns"]
    {
      row("Apache Thrift C++ 0.17", encode, decode)
      row("Apache Thrift C++, reused struct", encode, reuse)
      print("")
      print(
        "Skein speed-up over C++: encode \(fixed(encode / encodeNanoseconds, 2))x, decode \(fixed(decode / decodeNanoseconds, 2))x"
          + " (\(fixed(reuse / decodeNanoseconds, 2))x against the reused struct)"
      )
    }
  }
}
