#pragma once
// The HTTPS client `status` and `explain` use to ask a running daemon:
// one attempt (a person is waiting), 10 s at most, TLS as given.
#include <string>

#include "prescale/prometheus/client.hpp"

namespace prescale::cli {

inline prometheus::Client daemon_client(const std::string& server, const std::string& ca_file,
                                        const std::string& cert_file, const std::string& key_file,
                                        bool insecure) {
  prometheus::ClientOptions options;
  options.url = server;
  options.ca_file = ca_file;
  options.client_cert_file = cert_file;
  options.client_key_file = key_file;
  options.insecure_skip_verify = insecure;
  options.retry.max_attempts = 1;
  options.total_timeout = std::chrono::seconds(10);
  return prometheus::Client(options);
}

}  // namespace prescale::cli
