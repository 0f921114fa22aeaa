#pragma once
// A port for a server a test starts, kept apart from test_support.hpp so that
// the socket headers reach only the suites that start servers.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace prescale::test {

/// A TCP port on 127.0.0.1 free a moment ago (the kernel's pick); throws if
/// the kernel gave none.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("free_port: socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!bound) throw std::runtime_error("free_port: no port on 127.0.0.1");
  return ntohs(address.sin_port);
}

}  // namespace prescale::test
