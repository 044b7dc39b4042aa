/// Finds the structs and unions that contain themselves, directly or through others, without
/// a container in between. Swift value types cannot do that, so such struct fields are boxed
/// and such unions are `indirect`.
struct RecursionAnalysis {
  /// Struct-like definitions in the same cycle share a component number.
  private var component: [QualifiedName: Int] = [:]
  /// Definitions with an edge to themselves or in a cycle of more than one.
  private var cyclic: Set<QualifiedName> = []

  /// Analyzes every struct-like definition of the program.
  ///
  /// - Parameter edges: For each struct-like definition, the struct-like types its fields
  ///   hold directly (not inside a list, set or map).
  init(edges: [QualifiedName: [QualifiedName]]) {
    // Tarjan's strongly connected components, iterative so that deep chains of structs
    // cannot exhaust the stack.
    var index = 0
    var indices: [QualifiedName: Int] = [:]
    var lowLinks: [QualifiedName: Int] = [:]
    var onStack: Set<QualifiedName> = []
    var stack: [QualifiedName] = []
    var componentCount = 0

    for root in edges.keys.sorted(by: { "\($0)" < "\($1)" }) where indices[root] == nil {
      var work: [(node: QualifiedName, next: Int)] = [(root, 0)]
      indices[root] = index
      lowLinks[root] = index
      index += 1
      stack.append(root)
      onStack.insert(root)
      while let (node, next) = work.last {
        let successors = edges[node] ?? []
        if next < successors.count {
          work[work.count - 1].next += 1
          let successor = successors[next]
          if indices[successor] == nil {
            indices[successor] = index
            lowLinks[successor] = index
            index += 1
            stack.append(successor)
            onStack.insert(successor)
            work.append((successor, 0))
          } else if onStack.contains(successor) {
            lowLinks[node] = min(lowLinks[node]!, indices[successor]!)
          }
          continue
        }
        work.removeLast()
        if let parent = work.last?.node {
          lowLinks[parent] = min(lowLinks[parent]!, lowLinks[node]!)
        }
        if lowLinks[node] == indices[node] {
          var members: [QualifiedName] = []
          while let member = stack.popLast() {
            onStack.remove(member)
            members.append(member)
            component[member] = componentCount
            if member == node { break }
          }
          if members.count > 1 || (edges[node] ?? []).contains(node) {
            cyclic.formUnion(members)
          }
          componentCount += 1
        }
      }
    }
  }

  /// Whether a field of `owner` holding `type` closes a cycle and must be boxed.
  func needsBox(from owner: QualifiedName, to type: ResolvedType) -> Bool {
    guard case .structure(let target) = type, cyclic.contains(owner) else { return false }
    return component[owner] == component[target]
  }

  /// Whether a union is part of a cycle and must be `indirect`.
  func isCyclic(_ name: QualifiedName) -> Bool { cyclic.contains(name) }
}
