import ArgumentParser
import NIOCore
import NIOPosix
import SkeinDemoIDL
import SkeinThrift

/// `nio-echo-server`: the ceiling of `skein-bench echo`. A plain SwiftNIO server answering
/// ExampleService.Visit over framed binary Thrift with no framework: it reads a frame, decodes
/// the message header and the arguments, and writes the reply, all on the channel's event loop.
@main
struct NIOEchoServer: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nio-echo-server",
    abstract: "Plain SwiftNIO ExampleService.Visit server (framed binary Thrift)."
  )

  @Option(help: "TCP port to listen on.")
  var port: Int

  @Option(help: "Address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "Event loop threads (default: one per core).")
  var threads = System.coreCount

  func run() throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    let channel = try ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 1024)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(ThriftFrameDecoder())
          )
          try channel.pipeline.syncOperations.addHandler(VisitHandler())
        }
      }
      .bind(host: host, port: port)
      .wait()
    print("nio-echo-server: listening on \(host):\(port) with \(threads) event loops")
    try channel.closeFuture.wait()
  }
}

/// Answers each frame: `Visit` calls get `Resp = "hello, " + Name`, anything else a
/// `TApplicationException`. Replies are written as they are made and flushed once per read
/// burst, so pipelined calls on one connection share a `write` system call.
final class VisitHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// Reused for every reply on the connection; a reply is copied out of it once.
  private var writer = ThriftBinaryWriter(capacity: 2048)
  /// Whether replies were written since the last flush.
  private var unflushed = false

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var reader = ThriftBinaryReader(buffer: unwrapInboundIn(data))
    do {
      let header = try reader.readMessageBegin()
      writer.clear()
      let frame = writer.beginFrame()
      if header.type == .call, header.name == "Visit" {
        let args = try ExampleServiceMethods.VisitArgs(from: &reader)
        let response = ExampleResponse(resp: "hello, " + (args.req?.name ?? ""))
        writer.writeMessageBegin(
          ThriftMessageHeader(name: header.name, type: .reply, sequenceID: header.sequenceID)
        )
        ExampleServiceMethods.VisitResult(success: response).write(to: &writer)
      } else {
        writer.writeMessageBegin(
          ThriftMessageHeader(name: header.name, type: .exception, sequenceID: header.sequenceID)
        )
        ThriftApplicationException(.unknownMethod, "unknown method '\(header.name)'")
          .write(to: &writer)
      }
      try writer.endFrame(at: frame)
      var out = context.channel.allocator.buffer(capacity: writer.count)
      writer.write(into: &out)
      context.write(wrapOutboundOut(out), promise: nil)
      unflushed = true
    } catch {
      context.close(promise: nil)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    if unflushed {
      unflushed = false
      context.flush()
    }
    context.fireChannelReadComplete()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
