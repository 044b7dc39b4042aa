public import SkeinDemoIDL
import SkeinRPC

/// The seed service's handler: answers `Visit` with `hello, <Name>` and echoes the request's
/// LogID in `BaseResp.Extra["log_id"]`, so a caller can see its LogID arrive.
public struct ExampleHandler: ExampleService {
  /// How long each call takes before it answers (simulated work).
  public var delay: Duration

  /// Creates the handler.
  public init(delay: Duration = .zero) {
    self.delay = delay
  }

  /// `Resp = "hello, " + Name`.
  public nonisolated(nonsending) func visit(req: ExampleRequest) async throws -> ExampleResponse {
    if delay > .zero { try await Task.sleep(for: delay) }
    let logID = CallContext.current?.logID ?? req.base?.logID ?? ""
    return ExampleResponse(
      resp: "hello, " + req.name,
      baseResp: BaseResp(extra: ["log_id": logID])
    )
  }
}
