public import SkeinDemoIDL
import SkeinRPC

/// The seed service's handler: answers `Visit` with `hello, <Name>` and echoes the request's
/// LogID in `BaseResp.Extra["log_id"]`, so a caller can see its LogID arrive.
public struct ExampleHandler: ExampleService {
  /// Creates the handler.
  public init() {}

  /// `Resp = "hello, " + Name`.
  public func visit(req: ExampleRequest) async throws -> ExampleResponse {
    let logID = CallContext.current?.logID ?? req.base?.logID ?? ""
    return ExampleResponse(
      resp: "hello, " + req.name,
      baseResp: BaseResp(extra: ["log_id": logID])
    )
  }
}
