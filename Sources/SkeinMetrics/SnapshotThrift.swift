public import SkeinThrift

// The snapshot in Thrift's binary protocol: what `/stream?format=thrift` sends and the stream
// client asks for. Following 200 nodes of 50 routes as JSON spent three quarters of the
// client's time in JSONDecoder; this decodes an order of magnitude faster. The JSON schema of
// docs/METRICS.md stays the contract for people and scripts; field ids here follow its order.

extension NodeSnapshot: ThriftStruct {
  /// Reads a snapshot; unknown fields are skipped, so newer nodes can add some.
  public init(from reader: inout ThriftBinaryReader) throws {
    var schema = 0
    var time: Int64 = 0
    var interval = 0.0
    var node: NodeStats?
    var routes: [RouteStats] = []
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .i32): schema = Int(try reader.readI32())
      case (2, .i64): time = try reader.readI64()
      case (3, .double): interval = try reader.readDouble()
      case (4, .struct): node = try NodeStats(from: &reader)
      case (5, .list): routes = try reader.readList(of: .struct) { try RouteStats(from: &$0) }
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
    guard let node else { throw ThriftProtocolError.invalidData("a snapshot without its node") }
    self.init(
      schema: schema,
      timeMilliseconds: time,
      intervalSeconds: interval,
      node: node,
      routes: routes
    )
  }

  /// Writes the snapshot.
  public func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.i32, id: 1)
    writer.writeI32(Int32(clamping: schema))
    writer.writeFieldBegin(.i64, id: 2)
    writer.writeI64(timeMilliseconds)
    writer.writeFieldBegin(.double, id: 3)
    writer.writeDouble(intervalSeconds)
    writer.writeFieldBegin(.struct, id: 4)
    node.write(to: &writer)
    writer.writeFieldBegin(.list, id: 5)
    writer.writeList(routes, of: .struct) { $1.write(to: &$0) }
    writer.writeFieldStop()
  }
}

extension NodeStats: ThriftStruct {
  /// Reads a node's figures.
  public init(from reader: inout ThriftBinaryReader) throws {
    self.init(
      service: "",
      cluster: "",
      instance: "",
      address: nil,
      tasks: 0,
      tasksPeak: 0,
      rssBytes: 0,
      cpuPercent: 0
    )
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): service = try reader.readString()
      case (2, .string): cluster = try reader.readString()
      case (3, .string): instance = try reader.readString()
      case (4, .string): address = try reader.readString()
      case (5, .i64): tasks = Int(try reader.readI64())
      case (6, .i64): tasksPeak = Int(try reader.readI64())
      case (7, .i64): rssBytes = Int(try reader.readI64())
      case (8, .double): cpuPercent = try reader.readDouble()
      case (9, .bool): up = try reader.readBool()
      case (10, .double): qps = try reader.readDouble()
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
  }

  /// Writes a node's figures.
  public func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(service)
    writer.writeFieldBegin(.string, id: 2)
    writer.writeString(cluster)
    writer.writeFieldBegin(.string, id: 3)
    writer.writeString(instance)
    if let address {
      writer.writeFieldBegin(.string, id: 4)
      writer.writeString(address)
    }
    writer.writeFieldBegin(.i64, id: 5)
    writer.writeI64(Int64(tasks))
    writer.writeFieldBegin(.i64, id: 6)
    writer.writeI64(Int64(tasksPeak))
    writer.writeFieldBegin(.i64, id: 7)
    writer.writeI64(Int64(rssBytes))
    writer.writeFieldBegin(.double, id: 8)
    writer.writeDouble(cpuPercent)
    writer.writeFieldBegin(.bool, id: 9)
    writer.writeBool(up)
    if let qps {
      writer.writeFieldBegin(.double, id: 10)
      writer.writeDouble(qps)
    }
    writer.writeFieldStop()
  }
}

extension RouteStats: ThriftStruct {
  /// Reads a route's figures.
  public init(from reader: inout ThriftBinaryReader) throws {
    self.init(
      side: .client,
      from: "",
      fromCluster: "",
      to: "",
      toCluster: "",
      method: "",
      requests: 0,
      successes: 0,
      errors: [:],
      qps: 0,
      latencyMilliseconds: .init(p50: 0, p90: 0, p99: 0, p999: 0, max: 0),
      inflight: 0
    )
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string):
        let name = try reader.readString()
        guard let side = MetricsMiddleware.Side(rawValue: name) else {
          throw ThriftProtocolError.invalidData("unknown side '\(name)'")
        }
        self.side = side
      case (2, .string): from = try reader.readString()
      case (3, .string): fromCluster = try reader.readString()
      case (4, .string): to = try reader.readString()
      case (5, .string): toCluster = try reader.readString()
      case (6, .string): method = try reader.readString()
      case (7, .i64): requests = try reader.readI64()
      case (8, .i64): successes = try reader.readI64()
      case (9, .map):
        errors = try reader.readMap(of: .string, .i64) { (try $0.readString(), try $0.readI64()) }
      case (10, .double): qps = try reader.readDouble()
      case (11, .list):
        let values = try reader.readList(of: .double) { try $0.readDouble() }
        guard values.count == 5 else {
          throw ThriftProtocolError.invalidData("latency needs 5 values, not \(values.count)")
        }
        latencyMilliseconds = .init(
          p50: values[0],
          p90: values[1],
          p99: values[2],
          p999: values[3],
          max: values[4]
        )
      case (12, .i64): inflight = try reader.readI64()
      case (13, .string): breaker = try reader.readString()
      case (14, .bool): degraded = try reader.readBool()
      case (15, .map):
        traffic = try reader.readMap(of: .string, .i32) {
          (try $0.readString(), Int(try $0.readI32()))
        }
      case (16, .list):
        instances = try reader.readList(of: .struct) { try InstanceStats(from: &$0) }
      case (17, .double): servedQps = try reader.readDouble()
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
  }

  /// Writes a route's figures.
  public func write(to writer: inout ThriftBinaryWriter) {
    for (id, text) in [side.rawValue, from, fromCluster, to, toCluster, method].enumerated() {
      writer.writeFieldBegin(.string, id: Int16(id + 1))
      writer.writeString(text)
    }
    writer.writeFieldBegin(.i64, id: 7)
    writer.writeI64(requests)
    writer.writeFieldBegin(.i64, id: 8)
    writer.writeI64(successes)
    writer.writeFieldBegin(.map, id: 9)
    writer.writeMap(errors, of: .string, .i64) {
      $0.writeString($1)
      $0.writeI64($2)
    }
    writer.writeFieldBegin(.double, id: 10)
    writer.writeDouble(qps)
    let latency = latencyMilliseconds
    writer.writeFieldBegin(.list, id: 11)
    writer.writeList(
      [latency.p50, latency.p90, latency.p99, latency.p999, latency.max],
      of: .double
    ) { $0.writeDouble($1) }
    writer.writeFieldBegin(.i64, id: 12)
    writer.writeI64(inflight)
    if let breaker {
      writer.writeFieldBegin(.string, id: 13)
      writer.writeString(breaker)
    }
    if let degraded {
      writer.writeFieldBegin(.bool, id: 14)
      writer.writeBool(degraded)
    }
    if let traffic {
      writer.writeFieldBegin(.map, id: 15)
      writer.writeMap(traffic, of: .string, .i32) {
        $0.writeString($1)
        $0.writeI32(Int32(clamping: $2))
      }
    }
    if let instances {
      writer.writeFieldBegin(.list, id: 16)
      writer.writeList(instances, of: .struct) { $1.write(to: &$0) }
    }
    if let servedQps {
      writer.writeFieldBegin(.double, id: 17)
      writer.writeDouble(servedQps)
    }
    writer.writeFieldStop()
  }
}

extension InstanceStats: ThriftStruct {
  /// Reads an instance as a caller sees it.
  public init(from reader: inout ThriftBinaryReader) throws {
    self.init(address: "", weight: 0, inflight: 0, latencyMilliseconds: 0, breaker: "")
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): address = try reader.readString()
      case (2, .i64): weight = Int(try reader.readI64())
      case (3, .i64): inflight = Int(try reader.readI64())
      case (4, .double): latencyMilliseconds = try reader.readDouble()
      case (5, .string): breaker = try reader.readString()
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
  }

  /// Writes an instance as a caller sees it.
  public func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(address)
    writer.writeFieldBegin(.i64, id: 2)
    writer.writeI64(Int64(weight))
    writer.writeFieldBegin(.i64, id: 3)
    writer.writeI64(Int64(inflight))
    writer.writeFieldBegin(.double, id: 4)
    writer.writeDouble(latencyMilliseconds)
    writer.writeFieldBegin(.string, id: 5)
    writer.writeString(breaker)
    writer.writeFieldStop()
  }
}
