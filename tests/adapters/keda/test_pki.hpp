#pragma once
// Certificates for the scaler's TLS tests, made by the real openssl CLI: CAs,
// serving certificates for given DNS names, client certificates.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_support.hpp"

namespace prescale::test {

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Files under one temporary directory, named <name>.crt / <name>.key.
class TestPki {
 public:
  explicit TestPki(const std::string& prefix = "prescale-pki") : dir_(prefix) {}
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path; }
  [[nodiscard]] std::string crt(const std::string& name) const { return path(name, ".crt"); }
  [[nodiscard]] std::string key(const std::string& name) const { return path(name, ".key"); }

  void make_ca(const std::string& name, int days = 2) {
    run("openssl req -x509 -newkey rsa:2048 -nodes -days " + std::to_string(days) +
        " -subj /CN=" + name + " -keyout " + key(name) + " -out " + crt(name));
  }
  /// A serving certificate for `subject_alt_names` (e.g. "DNS:a.b.svc,IP:127.0.0.1").
  void make_server(const std::string& name, const std::string& ca,
                   const std::string& subject_alt_names, int days = 2) {
    std::ofstream(path(name, ".ext"))
        << "subjectAltName=" << subject_alt_names << "\nextendedKeyUsage=serverAuth\n";
    sign(name, ca, "/CN=" + name, days, "-extfile " + path(name, ".ext"));
  }
  void make_client(const std::string& name, const std::string& ca, int days = 2) {
    std::ofstream(path(name, ".ext")) << "extendedKeyUsage=clientAuth\n";
    sign(name, ca, "/CN=" + name, days, "-extfile " + path(name, ".ext"));
  }

 private:
  [[nodiscard]] std::string path(const std::string& name, const char* suffix) const {
    return (dir_.path / (name + suffix)).string();
  }
  static void run(const std::string& command) {
    INFO(command);
    REQUIRE(std::system((command + " >/dev/null 2>&1").c_str()) == 0);
  }
  void sign(const std::string& name, const std::string& ca, const std::string& subject, int days,
            const std::string& extensions) {
    run("openssl req -newkey rsa:2048 -nodes -subj " + subject + " -keyout " + key(name) +
        " -out " + path(name, ".csr"));
    run("openssl x509 -req -in " + path(name, ".csr") + " -CA " + crt(ca) + " -CAkey " + key(ca) +
        " -CAcreateserial -days " + std::to_string(days) + " " + extensions + " -out " + crt(name));
  }
  TempDir dir_;
};

}  // namespace prescale::test
