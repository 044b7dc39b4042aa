import ArgumentParser
import SkeinGovernance
import SkeinRPC

extension ControlCommand {
  /// `skein ctl access TO/CLUSTER/METHOD gateway,user` (or `--clear`).
  struct Access: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Set which services may call a method (servers with AccessRules obey).",
      discussion: """
        TARGET is TO/CLUSTER/METHOD, the callee's service, cluster and method, with * allowed \
        in any segment; the most specific rule wins. A method no rule matches is open to \
        every caller; an empty list (\"\") closes it to all. A caller not on the list gets \
        `denied`, never retried.

        Examples:
          skein ctl access 'storage/*/Get' user,feed
          skein ctl access 'storage/*/*' '' --registry memory://127.0.0.1:2380
          skein ctl access 'storage/*/Get' --clear
        """
    )

    @Argument(help: "The callee method: TO/CLUSTER/METHOD.") var target: String
    @Argument(help: "The services allowed, comma-separated.") var callers: String?
    @Flag(help: "Remove the rule (the method opens, unless a wider rule matches).")
    var clear = false
    @OptionGroup var store: StoreOptions

    /// The rule's key.
    func key() throws -> String {
      let segments = target.split(separator: "/", omittingEmptySubsequences: false)
      guard segments.count == 3,
        (try? RoutePattern(path: "/*/*/" + segments.joined(separator: "/"))) != nil
      else {
        throw ValidationError(
          "the target is TO/CLUSTER/METHOD like 'storage/*/Get', not '\(target)'"
        )
      }
      return AccessRules.key(
        to: String(segments[0]),
        toCluster: String(segments[1]),
        method: String(segments[2])
      )
    }

    /// The callers named.
    func allowed() throws -> Set<ServiceName> {
      var names = Set<ServiceName>()
      for name in (callers ?? "").split(separator: ",") {
        do {
          names.insert(try ServiceName(String(name)))
        } catch { throw ValidationError("'\(name)' is not a service name") }
      }
      return names
    }

    func validate() throws {
      _ = try key()
      _ = try allowed()
      guard clear == (callers == nil) else {
        throw ValidationError("give the callers (\"\" for none) or --clear, not both or neither")
      }
    }

    func run() async throws {
      let key = try key()
      if clear {
        let existed = try await store.withStore { try await $0.delete(key) }
        print(existed ? "\(key) removed" : "\(key) was not set")
        return
      }
      let value = AccessRules.value(callers: try allowed())
      let revision = try await store.withStore { try await $0.put(key, value) }
      print("\(key) = \(value) (revision \(revision))")
    }
  }
}
