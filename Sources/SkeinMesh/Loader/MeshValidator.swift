import SkeinIDL
import SkeinRPC

/// The checks that need the whole mesh: references between services, clusters named by traffic
/// splits, route policies that disagree, call cycles and depth, totals, and each method against
/// its service's IDL. Problems are placed with the reader's record of where each field was.
struct MeshValidator {
  let mesh: MeshDescription
  var reader: YAMLReader
  let limits: MeshLimits
  /// The folder the services' IDL files are in.
  let idlFolder: String
  let idlReader: IDLProgram.FileReader

  /// Runs every check; the problems end up in ``reader``.
  mutating func validate() {
    checkTotals()
    checkIDL()
    checkCalls()
    checkCycles()
  }

  // MARK: Paths

  /// The path of a method, as the decoder read it.
  static func path(_ service: MeshService, _ method: MeshMethod) -> String {
    "services.\(service.name).methods.\(method.name)"
  }

  /// Each call of a method with its path: `calls[1]` or `calls[2].parallel[0]`.
  static func calls(of method: MeshMethod, at path: String) -> [(String, MeshCall)] {
    method.calls.enumerated().flatMap { index, step -> [(String, MeshCall)] in
      switch step {
      case .call(let call): [("\(path).calls[\(index)]", call)]
      case .parallel(let calls):
        calls.enumerated().map { ("\(path).calls[\(index)].parallel[\($0)]", $1) }
      }
    }
  }

  /// Every call of the mesh: caller, path, call; the edge load's calls last.
  var allCalls: [(ServiceName, String, MeshCall)] {
    let services = mesh.services.flatMap { service in
      service.methods.flatMap { method in
        Self.calls(of: method, at: Self.path(service, method)).map { (service.name, $0, $1) }
      }
    }
    let edge = mesh.load.mix.enumerated().map { (mesh.load.caller, "load.mix[\($0)]", $1.call) }
    return services + edge
  }

  // MARK: Checks

  private mutating func checkTotals() {
    let instances = mesh.services.reduce(0) { $0 + $1.clusters.reduce(0) { $0 + $1.instances } }
    if instances > limits.maxInstances {
      reader.error(
        at: "services",
        "\(instances) instances in all, more than max_instances (\(limits.maxInstances))"
      )
    }
    if mesh.service(named: mesh.load.caller) != nil {
      reader.error(
        at: "load.caller",
        "'\(mesh.load.caller)' is a service of the mesh; the edge caller needs a name of its own"
      )
    }
    var seen: [MethodReference: Int] = [:]
    for (index, target) in mesh.load.mix.enumerated() {
      if let first = seen[target.call.target] {
        reader.error(
          at: "load.mix[\(index)].to",
          "\(target.call.target) is already in the mix at load.mix[\(first)]; give it one weight"
        )
      }
      seen[target.call.target] = seen[target.call.target] ?? index
    }
  }

  /// Every referenced service and method exists, traffic names the callee's clusters, and one
  /// caller's calls of a method agree on the route's traffic split and balancer.
  private mutating func checkCalls() {
    let known = mesh.services.map(\.name.rawValue).joined(separator: ", ")
    var policies: [String: (String, MeshCall)] = [:]
    for (caller, path, call) in allCalls {
      guard let callee = mesh.service(named: call.target.service) else {
        reader.error(
          at: "\(path).to",
          "unknown service '\(call.target.service)' (known: \(known))"
        )
        continue
      }
      guard callee.method(named: call.target.method) != nil else {
        let methods = callee.methods.map(\.name).joined(separator: ", ")
        reader.error(
          at: "\(path).to",
          "unknown method '\(call.target.method)' of \(callee.name) (known: \(methods))"
        )
        continue
      }
      let clusters = callee.clusters.map(\.name.rawValue).joined(separator: ", ")
      for cluster in (call.traffic ?? [:]).keys.sorted() where callee.cluster(named: cluster) == nil
      {
        reader.error(
          at: "\(path).traffic.\(cluster)",
          "\(callee.name) has no cluster '\(cluster)' (its clusters: \(clusters))"
        )
      }
      let route = "\(caller) \(call.target)"
      guard let (firstPath, first) = policies[route] else {
        policies[route] = (path, call)
        continue
      }
      if call.traffic != nil, first.traffic != nil, call.traffic != first.traffic {
        reader.error(
          at: "\(path).traffic",
          "differs from \(firstPath).traffic: a route from \(caller) to \(call.target) has one split"
        )
      }
      if call.balancer != nil, first.balancer != nil, call.balancer != first.balancer {
        reader.error(
          at: "\(path).balancer",
          "differs from \(firstPath).balancer: a route from \(caller) to \(call.target) has one balancer"
        )
      }
    }
  }

  /// No method reaches itself through its calls, and no chain is deeper than max_call_depth.
  private mutating func checkCycles() {
    var depth: [MethodReference: Int] = [:]
    var onPath: [MethodReference] = []
    var reported = false
    for service in mesh.services {
      for method in service.methods {
        let node = MethodReference(service: service.name, method: method.name)
        let found = visit(node, depth: &depth, onPath: &onPath, reported: &reported)
        if !reported, found > limits.maxCallDepth {
          reader.error(
            at: Self.path(service, method),
            "its calls go \(found) hops deep, more than max_call_depth (\(limits.maxCallDepth))"
          )
          reported = true
        }
      }
    }
  }

  /// The depth of the deepest chain below `node` (0 for a method that calls nothing); reports
  /// the first cycle, at the call that closes it.
  private mutating func visit(
    _ node: MethodReference,
    depth: inout [MethodReference: Int],
    onPath: inout [MethodReference],
    reported: inout Bool
  ) -> Int {
    if let known = depth[node] { return known }
    guard let service = mesh.service(named: node.service),
      let method = service.method(named: node.method)
    else { return 0 }
    onPath.append(node)
    var deepest = 0
    for (path, call) in Self.calls(of: method, at: Self.path(service, method)) {
      if let start = onPath.firstIndex(of: call.target) {
        if !reported {
          let cycle = (onPath[start...] + [call.target]).map(\.description)
          reader.error(at: "\(path).to", "call cycle: \(cycle.joined(separator: " → "))")
          reported = true
        }
        continue
      }
      deepest = max(
        deepest,
        1 + visit(call.target, depth: &depth, onPath: &onPath, reported: &reported)
      )
    }
    onPath.removeLast()
    depth[node] = deepest
    return deepest
  }

  /// Each service's IDL file loads, declares the named service, and declares every method the
  /// mesh simulates for it.
  private mutating func checkIDL() {
    var programs: [String: Result<IDLProgram, any Error>] = [:]
    for service in mesh.services {
      let path = "services.\(service.name).idl"
      let file =
        service.idl.file.hasPrefix("/") ? service.idl.file : "\(idlFolder)/\(service.idl.file)"
      let loaded =
        programs[file] ?? Result { try IDLProgram.load(files: [file], reader: idlReader) }
      programs[file] = loaded
      let program: IDLProgram
      switch loaded {
      case .success(let value): program = value
      case .failure(let error):
        reader.error(at: "\(path).file", "the IDL does not load: \(error)")
        continue
      }
      guard let functions = Self.functions(of: service.idl.service, in: program) else {
        let services = Self.serviceNames(in: program).joined(separator: ", ")
        reader.error(
          at: "\(path).service",
          "\(service.idl.file) declares no service '\(service.idl.service)' (it declares: \(services))"
        )
        continue
      }
      for method in service.methods where !functions.contains(method.name) {
        reader.error(
          at: Self.path(service, method),
          "\(service.idl.service) in \(service.idl.file) has no method '\(method.name)' (it has: \(functions.joined(separator: ", ")))"
        )
      }
    }
  }

  /// The services the program's root file declares.
  static func serviceNames(in program: IDLProgram) -> [String] {
    program.roots.first?.document.definitions.compactMap { definition -> String? in
      guard case .service(let service) = definition else { return nil }
      return service.name
    } ?? []
  }

  /// The methods of a service of the root file, those of the services it extends included;
  /// `nil` when the file has no such service.
  static func functions(of name: String, in program: IDLProgram) -> [String]? {
    guard let root = program.roots.first else { return nil }
    let service = root.document.definitions.lazy.compactMap { definition -> ServiceDefinition? in
      guard case .service(let service) = definition, service.name == name else { return nil }
      return service
    }.first
    guard var service else { return nil }
    var functions = service.functions.map(\.name)
    var document = root
    // The program was validated, so every `extends` resolves and none loops.
    while let parent = service.extends,
      let (qualified, definition) = try? program.service(
        named: parent,
        in: document,
        at: service.location
      )
    {
      functions += definition.functions.map(\.name)
      service = definition
      document = program.document(module: qualified.module) ?? document
    }
    return functions
  }
}
