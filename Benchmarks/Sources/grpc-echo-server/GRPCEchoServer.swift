import ArgumentParser
import Dispatch
import GRPCCore
import GRPCEchoSupport
import GRPCNIOTransportHTTP2
import NIOCore
import NIOPosix
import Synchronization

/// `grpc-echo-server`: grpc-swift-2's unary echo for `skein-bench echo`, served over its
/// HTTP/2 NIO (Posix) transport in plaintext. The one method, `/skein.bench.Echo/Visit`, takes
/// the raw bytes of a name and answers `"hello, "` followed by them: messages are plain byte
/// arrays with no protobuf, so the figure is the cost of grpc-swift itself.
@main
struct GRPCEchoServer: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "grpc-echo-server",
    abstract: "grpc-swift-2 unary echo server (raw-bytes messages, HTTP/2 plaintext)."
  )

  @Option(help: "TCP port to listen on.")
  var port: Int

  @Option(help: "Address to listen on.")
  var host = "127.0.0.1"

  @Flag(help: "Run Swift concurrency on NIO's event loops (one fewer thread hop per call).")
  var nioExecutor = false

  func run() throws {
    // Must happen before the first task starts, so this command's main is synchronous.
    if nioExecutor,
      !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    {
      throw ValidationError("could not install NIO's event loops as the global executor")
    }
    let address = GRPCNIOTransportCore.SocketAddress.ipv4(host: host, port: port)
    let nioExecutor = self.nioExecutor
    let failure = Mutex<(any Error)?>(nil)
    let finished = DispatchSemaphore(value: 0)
    Task {
      do {
        let server = GRPCServer(
          transport: .http2NIOPosix(address: address, transportSecurity: .plaintext),
          services: [EchoService()]
        )
        print("grpc-echo-server: listening on \(address), NIO executor \(nioExecutor)")
        try await server.serve()
      } catch {
        failure.withLock { $0 = error }
      }
      finished.signal()
    }
    finished.wait()
    if let error = failure.withLock({ $0 }) { throw error }
  }
}

/// The echo service: one unary method registered by hand with raw-bytes coders.
struct EchoService: RegistrableRPCService {
  func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
    router.registerHandler(
      forMethod: GRPCEcho.visit,
      deserializer: RawBytesDeserializer(),
      serializer: RawBytesSerializer()
    ) { request, _ in
      // What generated code does for a unary method: collapse the stream to one message.
      let single = try await ServerRequest(stream: request)
      var reply = GRPCEcho.greeting
      reply.append(contentsOf: single.message)
      return StreamingServerResponse(single: ServerResponse(message: reply))
    }
  }
}
