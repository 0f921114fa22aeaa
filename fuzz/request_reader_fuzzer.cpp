// Any bytes a client sends, cut into reads of any size, must give the same
// requests (or the same refusal) as when they arrive at once; every request
// handed on must be within the limits, and what the reader buffers stays
// bounded by them. The first input byte chooses the read size.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/kubernetes/request_reader.hpp"

namespace {

using prescale::kubernetes::HttpRequest;
using prescale::kubernetes::RequestLimits;
using prescale::kubernetes::RequestReader;

// Small limits, so that inputs reach them.
constexpr RequestLimits kLimits{64, 256, 8, 128};

struct Outcome {
  std::vector<std::string> requests;  // each flattened
  int refused_with = 0;               // HTTP status of a rejection, 0 if none
  bool operator==(const Outcome&) const = default;
};

std::string flatten(const HttpRequest& request) {
  std::string out = request.method + ' ' + request.target + ' ' + std::to_string(request.version) +
                    (request.keep_alive ? " keep\n" : " close\n");
  for (const auto& [name, value] : request.headers) out += name + ": " + value + '\n';
  return out + '\n' + request.body;
}

void check_limits(const HttpRequest& request) {
  std::size_t header_bytes = 0;
  for (const auto& [name, value] : request.headers) header_bytes += name.size() + value.size() + 3;
  if (request.target.size() > kLimits.max_uri_length ||
      request.headers.size() > kLimits.max_header_fields ||
      header_bytes > kLimits.max_header_bytes || request.body.size() > kLimits.max_body_bytes ||
      (request.version != 10 && request.version != 11)) {
    std::abort();
  }
}

Outcome read_all(std::string_view bytes, std::size_t read_size) {
  RequestReader reader(kLimits);
  Outcome out;
  const std::size_t bound = kLimits.max_uri_length + 64 + kLimits.max_header_bytes + 16 + read_size;
  for (std::size_t at = 0; at < bytes.size(); at += read_size) {
    reader.feed(bytes.substr(at, read_size));
    while (reader.state() == RequestReader::State::complete) {
      HttpRequest request = reader.take();
      check_limits(request);
      out.requests.push_back(flatten(request));
    }
    if (reader.state() == RequestReader::State::rejected) {
      const int status = reader.rejection().status;
      if (status != 400 && status != 411 && status != 413 && status != 414 && status != 431)
        std::abort();
      out.refused_with = status;
      break;
    }
    // Pipelined bytes beyond one read are never asked for while a request
    // waits, so only a request still arriving is held to the bound.
    if (reader.partial() && reader.buffered() > bound) std::abort();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t read_size = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = read_all(bytes, bytes.size() + 1);
  const Outcome pieces = read_all(bytes, read_size);
  if (!(whole == pieces)) std::abort();
  return 0;
}
