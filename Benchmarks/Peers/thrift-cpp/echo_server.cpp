// Apache Thrift C++ peer for `skein-bench echo`: ExampleService.Visit served by the library's
// TNonblockingServer (libevent, framed transport, binary protocol). Visit answers
// Resp = "hello, " + Name, as every server in the echo benchmark does.
//
//   thrift-echo-server PORT [IO_THREADS] [WORKER_THREADS]
//
// IO_THREADS (default 2) are libevent loops that read, process and write; WORKER_THREADS
// (default 0) moves processing to a ThreadManager pool instead, which on a small machine only
// adds a thread hop per call. Built by build.sh next to this file.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <thrift/concurrency/ThreadFactory.h>
#include <thrift/concurrency/ThreadManager.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TNonblockingServer.h>
#include <thrift/transport/TNonblockingServerSocket.h>

#include "ExampleService.h"

using apache::thrift::concurrency::ThreadFactory;
using apache::thrift::concurrency::ThreadManager;
using apache::thrift::protocol::TBinaryProtocolFactory;
using apache::thrift::server::TNonblockingServer;
using apache::thrift::transport::TNonblockingServerSocket;

namespace {

// Answers every call with the greeting; no other work, so the server's own cost is measured.
class EchoHandler : public ExampleServiceIf {
 public:
  void Visit(ExampleResponse& response, const ExampleRequest& request) override {
    static const std::string greeting = "hello, ";
    response.Resp.reserve(greeting.size() + request.Name.size());
    response.Resp.assign(greeting);
    response.Resp.append(request.Name);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [IO_THREADS] [WORKER_THREADS]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int ioThreads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int workerThreads = argc > 3 ? std::atoi(argv[3]) : 0;

  auto processor = std::make_shared<ExampleServiceProcessor>(std::make_shared<EchoHandler>());
  auto socket = std::make_shared<TNonblockingServerSocket>("127.0.0.1", port);
  auto protocol = std::make_shared<TBinaryProtocolFactory>();
  std::shared_ptr<ThreadManager> workers;
  if (workerThreads > 0) {
    workers = ThreadManager::newSimpleThreadManager(workerThreads);
    workers->threadFactory(std::make_shared<ThreadFactory>());
    workers->start();
  }
  TNonblockingServer server(processor, protocol, socket, workers);
  server.setNumIOThreads(ioThreads < 1 ? 1 : ioThreads);
  std::fprintf(stderr, "thrift-echo-server: 127.0.0.1:%d, %d IO threads, %d workers\n", port,
               ioThreads, workerThreads);
  server.serve();
  return 0;
}
