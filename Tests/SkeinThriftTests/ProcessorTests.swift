import NIOCore
import SkeinThrift
import Testing

@Suite("ThriftProcessor")
struct ProcessorTests {
  let handler = EchoHandler()
  var processor: ThriftProcessor<EchoProcessor<EchoHandler>> {
    ThriftProcessor(EchoProcessor(handler))
  }

  /// A request message: a header, then `body` as the argument struct's bytes.
  func request(_ name: String, _ type: ThriftMessageType = .call, sequenceID: Int32, body: [UInt8])
    -> ByteBuffer
  {
    var writer = ThriftBinaryWriter()
    writer.writeMessageBegin(ThriftMessageHeader(name: name, type: type, sequenceID: sequenceID))
    writer.writeRawBytes(body)
    return writer.buffer
  }

  /// Processes `request` and returns the reply's header and a reader at its body.
  func reply(to request: ByteBuffer) async throws -> (ThriftMessageHeader, ThriftBinaryReader) {
    let reply = try #require(await processor.process(request))
    var reader = ThriftBinaryReader(buffer: reply)
    let header = try reader.readMessageBegin()
    return (header, reader)
  }

  /// Processes `request` and expects an application exception reply with the given kind.
  func expectException(
    _ kind: ThriftApplicationException.Kind,
    name: String,
    sequenceID: Int32,
    for request: ByteBuffer,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async throws -> ThriftApplicationException {
    var (header, reader) = try await reply(to: request)
    #expect(
      header == ThriftMessageHeader(name: name, type: .exception, sequenceID: sequenceID),
      sourceLocation: sourceLocation
    )
    let exception = try ThriftApplicationException(from: &reader)
    #expect(exception.kind == kind, "\(exception)", sourceLocation: sourceLocation)
    #expect(reader.buffer.readableBytes == 0, sourceLocation: sourceLocation)
    return exception
  }

  @Test("a call gets a reply with the same name and seqid, holding the result")
  func callGetsReply() async throws {
    let args = bytes(of: EchoMethods.EchoArgs(text: "héllo").encoded())
    var (header, reader) = try await reply(to: request("echo", sequenceID: 4242, body: args))
    #expect(header == ThriftMessageHeader(name: "echo", type: .reply, sequenceID: 4242))
    let result = try EchoMethods.EchoResult(from: &reader)
    #expect(try result.get() == "héllo")
    #expect(reader.buffer.readableBytes == 0)
  }

  @Test("the reply echoes every seqid", arguments: [Int32.min, -1, 0, 1, .max])
  func replyEchoesSequenceID(sequenceID: Int32) async throws {
    let args = bytes(of: EchoMethods.EchoArgs(text: "x").encoded())
    let (header, _) = try await reply(to: request("echo", sequenceID: sequenceID, body: args))
    #expect(header.sequenceID == sequenceID)
    #expect(header.type == .reply)
  }

  @Test("an old non-strict call is answered")
  func nonStrictCall() async throws {
    var buffer = ByteBuffer(bytes: wireString("echo") + [0x01] + be32(77))
    buffer.writeImmutableBuffer(EchoMethods.EchoArgs(text: "old").encoded())
    var (header, reader) = try await reply(to: buffer)
    #expect(header == ThriftMessageHeader(name: "echo", type: .reply, sequenceID: 77))
    #expect(try EchoMethods.EchoResult(from: &reader).get() == "old")
  }

  @Test("an unknown method gets UNKNOWN_METHOD with the request's name and seqid")
  func unknownMethod() async throws {
    let exception = try await expectException(
      .unknownMethod,
      name: "nosuch",
      sequenceID: 12,
      for: request("nosuch", sequenceID: 12, body: [0x00])
    )
    #expect(exception.message.contains("nosuch"))
  }

  @Test("undecodable arguments get PROTOCOL_ERROR")
  func undecodableArguments() async throws {
    // A string claiming 100 bytes with 2 left.
    let truncated = fieldHeader(.string, 1) + be32(100) + [0x61, 0x62]
    _ = try await expectException(
      .protocolError,
      name: "echo",
      sequenceID: 5,
      for: request("echo", sequenceID: 5, body: truncated)
    )
    // An unknown type id inside the struct.
    _ = try await expectException(
      .protocolError,
      name: "echo",
      sequenceID: 6,
      for: request("echo", sequenceID: 6, body: [0x11, 0x00, 0x01, 0x00])
    )
    // No argument struct at all.
    _ = try await expectException(
      .protocolError,
      name: "echo",
      sequenceID: 7,
      for: request("echo", sequenceID: 7, body: [])
    )
  }

  @Test("a missing required argument gets PROTOCOL_ERROR")
  func missingRequiredArgument() async throws {
    let exception = try await expectException(
      .protocolError,
      name: "echo",
      sequenceID: 8,
      for: request("echo", sequenceID: 8, body: [0x00])
    )
    #expect(exception.message.contains("text"))
  }

  @Test("arguments beyond the request limits get PROTOCOL_ERROR")
  func argumentsOverLimit() async throws {
    // The limit admits the method name "echo" but not the five-byte argument.
    let processor = ThriftProcessor(
      EchoProcessor(handler),
      limits: ThriftLimits(maxStringLength: 4)
    )
    let args = bytes(of: EchoMethods.EchoArgs(text: "fives").encoded())
    let reply = try #require(await processor.process(request("echo", sequenceID: 2, body: args)))
    var reader = ThriftBinaryReader(buffer: reply)
    #expect(try reader.readMessageBegin().type == .exception)
    let exception = try ThriftApplicationException(from: &reader)
    #expect(exception.kind == .protocolError)
    #expect(exception.message.contains("maxStringLength"))
  }

  @Test("a declared exception is a normal reply carrying it in the result struct")
  func declaredException() async throws {
    let args = bytes(of: EchoMethods.FailArgs(mode: 1).encoded())
    var (header, reader) = try await reply(to: request("fail", sequenceID: 31, body: args))
    #expect(header == ThriftMessageHeader(name: "fail", type: .reply, sequenceID: 31))
    let result = try EchoMethods.FailResult(from: &reader)
    #expect(result == EchoMethods.FailResult(error: EchoError(reason: "declared")))
    #expect(throws: EchoError(reason: "declared")) { try result.get() }
  }

  @Test("an undeclared handler error gets INTERNAL_ERROR")
  func undeclaredError() async throws {
    let args = bytes(of: EchoMethods.FailArgs(mode: 2).encoded())
    let exception = try await expectException(
      .internalError,
      name: "fail",
      sequenceID: 32,
      for: request("fail", sequenceID: 32, body: args)
    )
    #expect(exception.message.contains("something undeclared broke"))
  }

  @Test("an application exception thrown by the handler is sent as it is")
  func handlerApplicationException() async throws {
    let args = bytes(of: EchoMethods.FailArgs(mode: 3).encoded())
    let exception = try await expectException(
      .invalidTransform,
      name: "fail",
      sequenceID: 33,
      for: request("fail", sequenceID: 33, body: args)
    )
    #expect(exception.message == "handler's own")
  }

  @Test("a void method that succeeds replies with an empty result struct")
  func voidSuccess() async throws {
    let args = bytes(of: EchoMethods.FailArgs(mode: 0).encoded())
    var (header, reader) = try await reply(to: request("fail", sequenceID: 34, body: args))
    #expect(header == ThriftMessageHeader(name: "fail", type: .reply, sequenceID: 34))
    #expect(reader.buffer.readableBytesView.elementsEqual([0x00]))
    try EchoMethods.FailResult(from: &reader).get()
  }

  @Test("a nil struct-typed argument the handler needs gets PROTOCOL_ERROR")
  func missingArgumentForHandler() async throws {
    let exception = try await expectException(
      .protocolError,
      name: "fail",
      sequenceID: 35,
      for: request("fail", sequenceID: 35, body: [0x00])
    )
    #expect(exception.message.contains("mode"))
  }

  @Test("a oneway call runs the handler and gets no reply")
  func onewayGetsNoReply() async throws {
    let args = bytes(of: EchoMethods.NotifyArgs(text: "ping").encoded())
    let reply = await processor.process(request("notify", .oneway, sequenceID: 1, body: args))
    #expect(reply == nil)
    #expect(await handler.notifications == ["ping"])
  }

  @Test("a oneway method gets no reply even when sent as a call, or when it fails")
  func onewayNeverReplies() async throws {
    let args = bytes(of: EchoMethods.NotifyArgs(text: "as call").encoded())
    #expect(await processor.process(request("notify", .call, sequenceID: 1, body: args)) == nil)
    let failing = bytes(of: EchoMethods.NotifyArgs(text: "throw").encoded())
    #expect(
      await processor.process(request("notify", .oneway, sequenceID: 2, body: failing)) == nil
    )
    let broken = fieldHeader(.string, 1) + be32(9)
    #expect(await processor.process(request("notify", .oneway, sequenceID: 3, body: broken)) == nil)
    #expect(await handler.notifications == ["as call", "throw"])
  }

  @Test("a oneway message for a two-way method gets no reply")
  func onewayMessageForTwoWayMethod() async throws {
    let args = bytes(of: EchoMethods.EchoArgs(text: "x").encoded())
    #expect(await processor.process(request("echo", .oneway, sequenceID: 1, body: args)) == nil)
  }

  @Test("a oneway message for an unknown method gets no reply: the caller reads none")
  func onewayUnknownMethod() async throws {
    #expect(await processor.process(request("nosuch", .oneway, sequenceID: 1, body: [0])) == nil)
  }

  @Test("a reply or exception message sent to a processor gets INVALID_MESSAGE_TYPE")
  func replyToProcessor() async throws {
    for type in [ThriftMessageType.reply, .exception] {
      _ = try await expectException(
        .invalidMessageType,
        name: "echo",
        sequenceID: 99,
        for: request("echo", type, sequenceID: 99, body: [0x00])
      )
    }
  }

  @Test("a request without a readable header gets no reply")
  func unreadableHeader() async {
    #expect(await processor.process(ByteBuffer()) == nil)
    #expect(await processor.process(ByteBuffer(bytes: [0x80, 0x01])) == nil)
    #expect(
      await processor.process(
        ByteBuffer(bytes: be32(bits: 0x8002_0001) + wireString("x") + be32(1))
      ) == nil
    )
  }

  @Test("corrupt requests are faults a server closes on; IDL disagreements are not")
  func faults() async throws {
    func fault(_ request: ByteBuffer) async -> ThriftProtocolError? {
      await processor.handle(request, framed: false, interceptor: Optional<DirectCall>.none).fault
    }
    // Bytes no honest peer sends: a value past the message's end, an unknown type id, a
    // header that cannot be read (no reply at all), a limit broken.
    let truncated = fieldHeader(.string, 1) + be32(100) + [0x61, 0x62]
    #expect(await fault(request("echo", sequenceID: 1, body: truncated))?.code == .truncated)
    #expect(
      await fault(request("echo", sequenceID: 2, body: [0x11, 0x00, 0x01, 0x00]))?.code
        == .unknownType
    )
    #expect(await fault(ByteBuffer(bytes: [0x80, 0x01]))?.code == .truncated)
    let overLimit = ThriftProcessor(
      EchoProcessor(handler),
      limits: ThriftLimits(maxStringLength: 4)
    )
    let args = bytes(of: EchoMethods.EchoArgs(text: "fives").encoded())
    let outcome = await overLimit.handle(
      request("echo", sequenceID: 3, body: args),
      framed: false,
      interceptor: Optional<DirectCall>.none
    )
    #expect(outcome.fault?.limit == .maxStringLength)
    #expect(outcome.reply != nil, "the caller still gets its PROTOCOL_ERROR")
    // Well-formed bytes of another IDL, an unknown method, a good call: no fault.
    #expect(await fault(request("echo", sequenceID: 4, body: [0x00])) == nil)
    #expect(await fault(request("nope", sequenceID: 5, body: [0x00])) == nil)
    let good = bytes(of: EchoMethods.EchoArgs(text: "ok").encoded())
    #expect(await fault(request("echo", sequenceID: 6, body: good)) == nil)
  }

  @Test("a generated-style client round-trips through the processor")
  func clientRoundTrip() async throws {
    let client = EchoClient(LoopbackInvoker(processor: processor))
    #expect(try await client.echo(text: "round trip") == "round trip")
    try await client.notify(text: "n")
    #expect(await handler.notifications == ["n"])
    try await client.fail(mode: 0)
    await #expect(throws: EchoError(reason: "declared")) { try await client.fail(mode: 1) }
    let error = await #expect(throws: ThriftApplicationException.self) {
      try await client.fail(mode: 2)
    }
    #expect(error?.kind == .internalError)
  }

  @Test("concurrent calls each get their own reply")
  func concurrentCalls() async throws {
    let processor = self.processor
    let replies = await withTaskGroup(of: (Int32, ByteBuffer?).self) { group in
      for sequenceID in Int32(1)...200 {
        group.addTask {
          var writer = ThriftBinaryWriter()
          writer.writeCall(
            EchoMethods.Echo.self,
            args: .init(text: "call \(sequenceID)"),
            sequenceID: sequenceID
          )
          return (sequenceID, await processor.process(writer.buffer))
        }
      }
      var replies: [Int32: ByteBuffer?] = [:]
      for await (sequenceID, reply) in group { replies[sequenceID] = reply }
      return replies
    }
    #expect(replies.count == 200)
    for (sequenceID, reply) in replies {
      var reader = ThriftBinaryReader(buffer: try #require(reply))
      let header = try reader.readMessageBegin()
      #expect(header == ThriftMessageHeader(name: "echo", type: .reply, sequenceID: sequenceID))
      #expect(try EchoMethods.EchoResult(from: &reader).get() == "call \(sequenceID)")
    }
  }

  @Test("an unknown method's message names the method and the service")
  func unknownMethodMessage() async throws {
    let exception = try await expectException(
      .unknownMethod,
      name: "Echo",
      sequenceID: 1,
      for: request("Echo", sequenceID: 1, body: [0x00])
    )
    #expect(exception.message.contains("'Echo'"))
    #expect(exception.message.contains("service 'Echo'"))
  }

  @Test("Base and BaseResp default to empty")
  func baseDefaults() {
    let base = ThriftBase()
    #expect(base.logID.isEmpty && base.caller.isEmpty && base.extra == nil)
    let resp = ThriftBaseResp()
    #expect(resp.statusMessage.isEmpty && resp.statusCode == 0 && resp.extra == nil)
    #expect(ThriftBase(logID: "a", caller: "b", extra: ["k": "v"]).extra == ["k": "v"])
  }

  @Test("the service describes itself")
  func serviceDescription() {
    #expect(EchoProcessor<EchoHandler>.serviceName == "Echo")
    #expect(EchoProcessor<EchoHandler>.methodNames == ["echo", "notify", "fail"])
    #expect(EchoMethods.Notify.isOneway)
    #expect(!EchoMethods.Echo.isOneway)
  }

  @Test("args and results without a Base carry none")
  func noBaseByDefault() {
    var args = EchoMethods.EchoArgs(text: "x")
    args.requestBase = ThriftBase(logID: "id", caller: "me")
    #expect(args.requestBase == nil)
    var result = EchoMethods.EchoResult(success: "x")
    result.responseBase = ThriftBaseResp(statusMessage: "ok")
    #expect(result.responseBase == nil)
  }

  @Test("thriftArgument unwraps a present value and rejects a missing one")
  func thriftArgumentUnwraps() throws {
    #expect(try thriftArgument(5, named: "n", of: "m") == 5)
    let error = #expect(throws: ThriftApplicationException.self) {
      _ = try thriftArgument(Int?.none, named: "n", of: "m")
    }
    #expect(error?.kind == .protocolError)
  }

  @Test("the oneway result is an empty struct")
  func onewayResult() throws {
    #expect(bytes(of: ThriftOnewayResult().encoded()) == [0x00])
    let decoded = try ThriftOnewayResult(decoding: fieldHeader(.i32, 1) + be32(1) + [0x00])
    decoded.get()
  }
}
