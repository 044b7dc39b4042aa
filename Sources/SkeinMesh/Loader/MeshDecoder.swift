import SkeinRPC
import Yams

/// Turns a YAML document into a ``MeshDescription``, field by field, with every shape and range
/// problem recorded in the reader. References between services are checked afterwards by
/// ``MeshValidator``, once the whole mesh is known.
struct MeshDecoder {
  var reader: YAMLReader
  let limits: MeshLimits

  /// The top-level keys of a mesh file.
  static let topKeys = ["name", "idl_dir", "services", "load"]
  /// The keys of a call; the load mix's entries add `weight`.
  static let callKeys = ["to", "timeout_ms", "traffic", "balancer"]
  /// The edge caller's name when the file does not give one.
  static let defaultCaller = "edge"

  /// The document's folder of IDL files, relative to the mesh file; `idl` when not given.
  private(set) var idlFolder = "idl"

  /// Decodes the document; `nil` when its top level is unusable.
  mutating func decode(_ root: YAMLValue) -> MeshDescription? {
    guard let top = reader.fields(root, allowed: Self.topKeys, required: ["services", "load"])
    else { return nil }
    let name = top["name"].flatMap { reader.string($0) } ?? "mesh"
    if let folder = top["idl_dir"].flatMap({ reader.string($0) }) { idlFolder = folder }
    let services = top["services"].flatMap { decodeServices($0) } ?? []
    let load = top["load"].flatMap { decodeLoad($0) }
    guard let load else { return nil }
    return MeshDescription(name: name, services: services, load: load)
  }

  // MARK: Services

  private mutating func decodeServices(_ value: YAMLValue) -> [MeshService]? {
    guard let entries = reader.entries(value) else { return nil }
    count(entries.count, "services", in: value, limit: (limits.maxServices, "max_services"))
    return entries.compactMap { key, value in
      guard let name = named(value, key, ServiceName.init) else { return nil }
      return decodeService(name, value)
    }
  }

  private mutating func decodeService(_ name: ServiceName, _ value: YAMLValue) -> MeshService? {
    let keys = ["idl", "clusters", "methods"]
    guard let fields = reader.fields(value, allowed: keys, required: keys),
      let idlValue = fields["idl"], let clustersValue = fields["clusters"],
      let methodsValue = fields["methods"],
      let idlFields = reader.fields(
        idlValue,
        allowed: ["file", "service"],
        required: ["file", "service"]
      )
    else { return nil }
    let file = idlFields["file"].flatMap { reader.string($0) }
    let service = idlFields["service"].flatMap { reader.string($0) }
    let clusters = decodeClusters(clustersValue)
    let methods = decodeMethods(methodsValue)
    guard let file, let service, let clusters, let methods else { return nil }
    return MeshService(
      name: name,
      idl: IDLReference(file: file, service: service),
      clusters: clusters,
      methods: methods
    )
  }

  private mutating func decodeClusters(_ value: YAMLValue) -> [MeshCluster]? {
    guard let entries = reader.entries(value) else { return nil }
    count(
      entries.count,
      "clusters",
      in: value,
      limit: (limits.maxClustersPerService, "max_clusters_per_service")
    )
    let instanceRange = 1...limits.maxInstancesPerCluster
    return entries.compactMap { key, value -> MeshCluster? in
      guard let name = named(value, key, Cluster.init) else { return nil }
      // `c1: 2` is shorthand for `c1: {instances: 2}`.
      if case .scalar = value.node {
        return reader.int(value, in: instanceRange).map { MeshCluster(name: name, instances: $0) }
      }
      guard
        let fields = reader.fields(
          value,
          allowed: ["instances", "weight"],
          required: ["instances"]
        ),
        let instances = fields["instances"].flatMap({ reader.int($0, in: instanceRange) })
      else { return nil }
      let weight = fields["weight"].map { reader.int($0, in: 1...10_000) }
      if case .some(.none) = weight { return nil }
      return MeshCluster(
        name: name,
        instances: instances,
        weight: weight.flatMap { $0 } ?? MeshCluster.defaultWeight
      )
    }
  }

  // MARK: Methods

  private mutating func decodeMethods(_ value: YAMLValue) -> [MeshMethod]? {
    guard let entries = reader.entries(value) else { return nil }
    count(
      entries.count,
      "methods",
      in: value,
      limit: (limits.maxMethodsPerService, "max_methods_per_service")
    )
    return entries.compactMap { key, value in
      guard methodName(key, at: value.path) else { return nil }
      return decodeMethod(key, value)
    }
  }

  private mutating func decodeMethod(_ name: String, _ value: YAMLValue) -> MeshMethod? {
    guard
      let fields = reader.fields(
        value,
        allowed: ["latency", "error_rate", "cpu_us", "calls"],
        required: ["latency"]
      )
    else { return nil }
    let latency = fields["latency"].flatMap { decodeLatency($0) }
    let errorRate = fields["error_rate"].map { reader.double($0, in: 0...1) } ?? 0
    let cpu = fields["cpu_us"].map { reader.int($0, in: 0...limits.maxCPUMicroseconds) } ?? 0
    let calls = fields["calls"].map { decodeSteps($0) } ?? []
    guard let latency, let errorRate, let cpu, let calls else { return nil }
    if let value = fields["calls"] {
      let fanOut = calls.reduce(0) { $0 + $1.calls.count }
      count(fanOut, "calls", in: value, atLeast: 0, limit: (limits.maxFanOut, "max_fan_out"))
    }
    return MeshMethod(
      name: name,
      work: SimulatedWork(latency: latency, errorRate: errorRate, cpuMicroseconds: cpu),
      calls: calls
    )
  }

  private mutating func decodeLatency(_ value: YAMLValue) -> LatencyDistribution? {
    let keys = ["p50_ms", "p99_ms"]
    guard let fields = reader.fields(value, allowed: keys, required: keys),
      let p50Value = fields["p50_ms"], let p99Value = fields["p99_ms"]
    else { return nil }
    let range = Double.leastNonzeroMagnitude...Double(limits.maxMilliseconds)
    guard let p50 = reader.double(p50Value, in: range), let p99 = reader.double(p99Value, in: range)
    else { return nil }
    guard p99 >= p50 else {
      reader.error(p99Value, "p99_ms \(format(p99)) is below p50_ms \(format(p50))")
      return nil
    }
    return LatencyDistribution(p50Milliseconds: p50, p99Milliseconds: p99)
  }

  // MARK: Calls

  private mutating func decodeSteps(_ value: YAMLValue) -> [CallStep]? {
    guard let items = reader.sequence(value) else { return nil }
    let steps = items.map { item -> CallStep? in
      guard case .mapping(let mapping) = item.node, mapping["parallel"] != nil else {
        return decodeCall(item).map(CallStep.call)
      }
      guard let fields = reader.fields(item, allowed: ["parallel"]),
        let parallel = fields["parallel"], let calls = reader.sequence(parallel)
      else { return nil }
      count(calls.count, "calls", in: parallel, limit: (limits.maxFanOut, "max_fan_out"))
      let decoded = calls.map { decodeCall($0) }
      guard decoded.allSatisfy({ $0 != nil }) else { return nil }
      return .parallel(decoded.compactMap { $0 })
    }
    guard steps.allSatisfy({ $0 != nil }) else { return nil }
    return steps.compactMap { $0 }
  }

  /// A call (a step's or a parallel step's item).
  private mutating func decodeCall(_ value: YAMLValue) -> MeshCall? {
    reader.fields(value, allowed: Self.callKeys, required: ["to"]).flatMap { makeCall($0) }
  }

  /// A call from its fields, read by the caller, which may allow more keys.
  private mutating func makeCall(_ fields: [String: YAMLValue]) -> MeshCall? {
    guard let target = fields["to"].flatMap({ decodeTarget($0) }) else { return nil }
    let timeout = fields["timeout_ms"].map { reader.int($0, in: 1...limits.maxMilliseconds) }
    let traffic = fields["traffic"].map { decodeTraffic($0) }
    let balancer = fields["balancer"].map { decodeBalancer($0) }
    if case .some(.none) = timeout { return nil }
    if case .some(.none) = traffic { return nil }
    if case .some(.none) = balancer { return nil }
    return MeshCall(
      target: target,
      timeoutMilliseconds: timeout.flatMap { $0 },
      traffic: traffic.flatMap { $0 },
      balancer: balancer.flatMap { $0 }
    )
  }

  /// `service.Method`: the service is everything before the last dot, since service names may
  /// contain dots and methods may not.
  private mutating func decodeTarget(_ value: YAMLValue) -> MethodReference? {
    guard let text = reader.string(value) else { return nil }
    guard let dot = text.lastIndex(of: ".") else {
      reader.error(value, "expected service.Method, found '\(text)'")
      return nil
    }
    let method = String(text[text.index(after: dot)...])
    do throws(NamingError) {
      let service = try ServiceName(String(text[..<dot]))
      try checkMethodName(method)
      return MethodReference(service: service, method: method)
    } catch {
      reader.error(value, error.description)
      return nil
    }
  }

  private mutating func decodeTraffic(_ value: YAMLValue) -> [Cluster: Int]? {
    guard let entries = reader.entries(value) else { return nil }
    var traffic: [Cluster: Int] = [:]
    for (key, weightValue) in entries {
      guard let cluster = named(weightValue, key, Cluster.init),
        let weight = reader.int(weightValue, in: 0...1_000_000)
      else { return nil }
      traffic[cluster] = weight
    }
    guard traffic.values.contains(where: { $0 > 0 }) else {
      reader.error(value, "the weights must not all be 0: the calls would have nowhere to go")
      return nil
    }
    return traffic
  }

  private mutating func decodeBalancer(_ value: YAMLValue) -> String? {
    guard let kind = reader.string(value) else { return nil }
    guard LoadBalancerKind.all.contains(kind) else {
      let known = LoadBalancerKind.all.joined(separator: ", ")
      reader.error(value, "unknown balancer '\(kind)' (known: \(known))")
      return nil
    }
    return kind
  }

  // MARK: Load

  private mutating func decodeLoad(_ value: YAMLValue) -> LoadProfile? {
    guard
      let fields = reader.fields(
        value,
        allowed: ["caller", "rate", "shape", "mix"],
        required: ["rate", "mix"]
      )
    else { return nil }
    let caller: ServiceName? =
      if let callerValue = fields["caller"], let text = reader.string(callerValue) {
        named(callerValue, text, ServiceName.init)
      } else {
        fields["caller"] == nil ? try? ServiceName(Self.defaultCaller) : nil
      }
    let rate = fields["rate"].flatMap { reader.double($0, in: 0.001...limits.maxRate) }
    let shape = fields["shape"].map { decodeShape($0) } ?? .steady
    let mix = fields["mix"].flatMap { decodeMix($0) }
    guard let caller, let rate, let shape, let mix else { return nil }
    return LoadProfile(caller: caller, rate: rate, shape: shape, mix: mix)
  }

  /// `steady`, or a mapping with `kind` and the kind's own settings, each with a default.
  private mutating func decodeShape(_ value: YAMLValue) -> LoadShape? {
    let kinds = ["steady", "ramp", "spike"]
    var fields: [String: YAMLValue] = [:]
    let kindValue: YAMLValue
    if case .scalar = value.node {
      kindValue = value
    } else {
      guard
        let read = reader.fields(
          value,
          allowed: ["kind", "over_s", "every_s", "for_s", "factor"],
          required: ["kind"]
        ), let kind = read["kind"]
      else { return nil }
      fields = read
      kindValue = kind
    }
    guard let kind = reader.string(kindValue) else { return nil }
    let allowed: [String]
    switch kind {
    case "steady": allowed = []
    case "ramp": allowed = ["over_s"]
    case "spike": allowed = ["every_s", "for_s", "factor"]
    default:
      reader.error(kindValue, "unknown shape '\(kind)' (known: \(kinds.joined(separator: ", ")))")
      return nil
    }
    for (key, field) in fields where key != "kind" && !allowed.contains(key) {
      reader.error(field, "'\(key)' does not apply to shape '\(kind)'")
      return nil
    }
    let seconds = 0.001...86_400.0
    let over = fields["over_s"].map { reader.double($0, in: seconds) } ?? 30
    let every = fields["every_s"].map { reader.double($0, in: seconds) } ?? 30
    let duration = fields["for_s"].map { reader.double($0, in: seconds) } ?? 5
    let factor = fields["factor"].map { reader.double($0, in: 0...1_000) } ?? 3
    guard let over, let every, let duration, let factor else { return nil }
    if duration > every, let field = fields["for_s"] {
      reader.error(field, "for_s \(format(duration)) is longer than every_s \(format(every))")
      return nil
    }
    switch kind {
    case "ramp": return .ramp(seconds: over)
    case "spike": return .spike(every: every, duration: duration, factor: factor)
    default: return .steady
    }
  }

  private mutating func decodeMix(_ value: YAMLValue) -> [LoadTarget]? {
    guard let items = reader.sequence(value) else { return nil }
    count(items.count, "methods", in: value, limit: (limits.maxLoadTargets, "max_load_targets"))
    let targets = items.map { item -> LoadTarget? in
      guard
        let fields = reader.fields(item, allowed: Self.callKeys + ["weight"], required: ["to"]),
        let call = makeCall(fields)
      else { return nil }
      guard let weightValue = fields["weight"] else { return LoadTarget(call: call, weight: 1) }
      return reader.int(weightValue, in: 1...1_000_000).map { LoadTarget(call: call, weight: $0) }
    }
    guard targets.allSatisfy({ $0 != nil }) else { return nil }
    return targets.compactMap { $0 }
  }

  // MARK: Counts and names

  /// Checks how many of something a mapping or list holds against its bounds; the limit's name
  /// is in the message so a person knows which setting stopped them.
  private mutating func count(
    _ count: Int,
    _ noun: String,
    in value: YAMLValue,
    atLeast minimum: Int = 1,
    limit: (value: Int, name: String)
  ) {
    if count < minimum {
      reader.error(value, "needs at least \(minimum) \(noun), has \(count)")
    } else if count > limit.value {
      reader.error(value, "\(count) \(noun), more than \(limit.name) (\(limit.value))")
    }
  }

  /// A name checked by `make` (``ServiceName`` or ``Cluster``); its error is placed at the key.
  private mutating func named<Name>(
    _ value: YAMLValue,
    _ text: String,
    _ make: (String) throws(NamingError) -> Name
  ) -> Name? {
    do throws(NamingError) {
      return try make(text)
    } catch {
      reader.error(at: value.path, error.description)
      return nil
    }
  }

  /// Checks a method name, with the same rule five-tuples apply.
  private mutating func methodName(_ text: String, at path: String) -> Bool {
    do throws(NamingError) {
      try checkMethodName(text)
      return true
    } catch {
      reader.error(at: path, error.description)
      return false
    }
  }
}

/// Checks a method name as ``FiveTuple`` does, by building one, so the rule lives in one place.
func checkMethodName(_ method: String) throws(NamingError) {
  _ = try FiveTuple(
    from: ServiceName.unknown,
    fromCluster: Cluster.default,
    to: ServiceName.unknown,
    toCluster: Cluster.default,
    method: method
  )
}
