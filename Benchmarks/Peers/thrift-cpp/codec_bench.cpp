// Apache Thrift C++ codec benchmark: the peer Skein's codec is measured against.
// Encodes and decodes ExampleRequest (1 KiB Name, 10-entry Base.Extra) with TBinaryProtocol
// over TMemoryBuffer, the library's standard in-memory path, and prints one JSON line.
//
// Built by Benchmarks/Peers/thrift-cpp/build.sh from code `thrift --gen cpp` makes of
// demo/idl/example.thrift; run by `swift run -c release skein-bench codec`.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "example_types.h"

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TMemoryBuffer;
using Clock = std::chrono::steady_clock;

static ExampleRequest makeRequest() {
  ExampleRequest request;
  request.Name = std::string(1024, 'n');
  request.ID64 = 1234567890123LL;
  request.ID32 = 42;
  request.Base.LogID = "20261125-0001-demo-logid";
  request.Base.Caller = "gateway";
  for (int i = 0; i < 10; i++) {
    request.Base.Extra["key-" + std::to_string(i)] = "value-" + std::to_string(i);
  }
  request.Base.__isset.Extra = true;
  return request;
}

static double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 1000000;
  const ExampleRequest request = makeRequest();
  auto buffer = std::make_shared<TMemoryBuffer>(4096);
  TBinaryProtocol protocol(buffer);

  // Encode: reset the buffer and write the struct, as a server does per reply.
  for (long i = 0; i < iterations / 10; i++) {
    buffer->resetBuffer();
    buffer->readEnd();  // what readMessageEnd does: resets the message-size budget
    request.write(&protocol);
  }
  auto start = Clock::now();
  for (long i = 0; i < iterations; i++) {
    buffer->resetBuffer();
    buffer->readEnd();  // what readMessageEnd does: resets the message-size budget
    request.write(&protocol);
  }
  const double encodeSeconds = secondsSince(start);

  uint8_t* data = nullptr;
  uint32_t length = 0;
  buffer->getBuffer(&data, &length);
  const std::string bytes(reinterpret_cast<const char*>(data), length);

  // Decode into a fresh struct each time, as a server does per request.
  long checksum = 0;
  start = Clock::now();
  for (long i = 0; i < iterations; i++) {
    buffer->resetBuffer(reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())), length,
                        TMemoryBuffer::OBSERVE);
    buffer->readEnd();  // what readMessageEnd does: resets the message-size budget
    ExampleRequest decoded;
    decoded.read(&protocol);
    checksum += decoded.ID32;
  }
  const double decodeSeconds = secondsSince(start);

  // Decode reusing one struct (its strings keep their capacity): the library's best case.
  ExampleRequest reused;
  start = Clock::now();
  for (long i = 0; i < iterations; i++) {
    buffer->resetBuffer(reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())), length,
                        TMemoryBuffer::OBSERVE);
    buffer->readEnd();  // what readMessageEnd does: resets the message-size budget
    reused.read(&protocol);
    checksum += reused.ID32;
  }
  const double reuseSeconds = secondsSince(start);

  std::printf(
      "{\"peer\":\"apache-thrift-cpp\",\"bytes\":%u,\"iterations\":%ld,"
      "\"encode_ns\":%.1f,\"decode_ns\":%.1f,\"decode_reuse_ns\":%.1f,\"checksum\":%ld}\n",
      length, iterations, encodeSeconds * 1e9 / iterations, decodeSeconds * 1e9 / iterations,
      reuseSeconds * 1e9 / iterations, checksum);
  return 0;
}
