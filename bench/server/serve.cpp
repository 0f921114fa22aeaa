// Hosts the External Metrics server with a synthetic snapshot for the load
// bench; writes the bound port to a file and serves until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "prescale/kubernetes/server.hpp"

int main(int argc, char** argv) {
  using namespace prescale;
  kubernetes::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.authorization.mode = kubernetes::AuthorizationOptions::Mode::always_allow;
  std::string port_file;
  int targets = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--cert")
      options.cert_file = value;
    else if (flag == "--key")
      options.key_file = value;
    else if (flag == "--front-proxy-ca")
      options.requestheader_client_ca_file = value;
    else if (flag == "--client-ca")
      options.client_ca_file = value;
    else if (flag == "--port-file")
      port_file = value;
    else if (flag == "--targets")
      targets = std::atoi(value.c_str());
    else if (flag == "--max-connections")
      options.limits.max_connections = std::atoi(value.c_str());
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  options.requestheader_allowed_names = {"front-proxy-client"};
  options.log = [](LogLevel, std::string_view message) { std::cerr << message << "\n"; };

  SnapshotStore store;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->ready = true;
  snapshot->generated_unix = 1767623400;
  for (int i = 0; i < targets; ++i) {
    const std::string name = "target-" + std::to_string(i);
    snapshot->metrics.push_back(
        {name + "-rps", "*", {{"target", name}}, 1000.5 + i, 1767623400, 60, name});
    TargetStatus status;
    status.target = name;
    status.served = 1000.5 + i;
    snapshot->targets.push_back(status);
  }
  store.publish(snapshot);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the server's threads start

  kubernetes::Server server(options, store);
  if (auto started = server.start(); !started) {
    std::cerr << started.error().message << "\n";
    return 1;
  }
  std::ofstream(port_file) << server.port() << "\n";
  int received = 0;
  sigwait(&signals, &received);
  server.stop();
  return 0;
}
