#include "prescale/config/kubeconfig.hpp"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>

namespace prescale::config {
namespace {

// Standard base64 (RFC 4648 section 4), padding required, whitespace skipped:
// what kubectl writes in the *-data fields.
Expected<std::string> base64_decode(std::string_view text) {
  static const std::array<std::int8_t, 256> table = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i)
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  std::string clean;
  for (const char c : text)
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean += c;
  if (clean.size() % 4 != 0) return make_error("not valid base64 (length)");
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (std::size_t i = 0; i < clean.size(); i += 4) {
    std::uint32_t bits = 0;
    int padding = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = clean[i + k];
      if (c == '=' && i + 4 == clean.size() && k >= 2) {
        ++padding;
        bits <<= 6;
        continue;
      }
      const auto value = table[static_cast<unsigned char>(c)];
      if (value < 0 || padding > 0) return make_error("not valid base64");
      bits = bits << 6 | static_cast<std::uint32_t>(value);
    }
    out += static_cast<char>(bits >> 16 & 0xff);
    if (padding < 2) out += static_cast<char>(bits >> 8 & 0xff);
    if (padding < 1) out += static_cast<char>(bits & 0xff);
  }
  return out;
}

YAML::Node find_named(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return {};
  for (const auto& entry : list)
    if (entry.IsMap() && entry["name"] && entry["name"].as<std::string>() == name) return entry;
  return {};
}

std::string resolve(const std::filesystem::path& base, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (base / path).lexically_normal().string();
}

}  // namespace

Expected<Kubeconfig> read_kubeconfig(const std::filesystem::path& file,
                                     std::string_view context_name) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error("kubeconfig " + file.string() + ": cannot read it");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_kubeconfig(text, file, context_name);
}

Expected<Kubeconfig> parse_kubeconfig(std::string_view text, const std::filesystem::path& file,
                                      std::string_view context_name) {
  const std::string where = "kubeconfig " + file.string();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error(fmt::format("{}: not YAML: {}", where, e.what()));
  }
  if (!root.IsMap()) return make_error(where + ": not a kubeconfig (expected a map)");
  const auto base = std::filesystem::absolute(file).parent_path();
  try {
    Kubeconfig out;
    out.context = context_name.empty() ? root["current-context"].as<std::string>("")
                                       : std::string(context_name);
    if (out.context.empty())
      return make_error(where + ": current-context is not set; give --context NAME");
    const auto context = find_named(root["contexts"], out.context)["context"];
    if (!context)
      return make_error(fmt::format("{}: contexts has no context named '{}'", where, out.context));
    out.cluster = context["cluster"].as<std::string>("");
    out.user = context["user"].as<std::string>("");
    const auto cluster = find_named(root["clusters"], out.cluster)["cluster"];
    if (!cluster)
      return make_error(fmt::format("{}: context '{}' names cluster '{}', which clusters lacks",
                                    where, out.context, out.cluster));
    const std::string at_cluster = fmt::format("{}: clusters[{}]", where, out.cluster);
    for (const char* unsupported : {"tls-server-name", "proxy-url"}) {
      if (cluster[unsupported])
        return make_error(fmt::format("{}.{} is not supported; connect directly (--server)",
                                      at_cluster, unsupported));
    }
    out.server = cluster["server"].as<std::string>("");
    while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();
    if (out.server.empty()) return make_error(at_cluster + ".server is empty");
    out.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"].as<bool>(false);
    out.ca_file = resolve(base, cluster["certificate-authority"].as<std::string>(""));
    if (cluster["certificate-authority-data"]) {
      auto pem = base64_decode(cluster["certificate-authority-data"].as<std::string>());
      if (!pem)
        return make_error(at_cluster + ".certificate-authority-data: " + pem.error().message);
      out.ca_pem = std::move(*pem);
    }
    if (out.user.empty()) return out;
    const auto user = find_named(root["users"], out.user)["user"];
    if (!user)
      return make_error(fmt::format("{}: context '{}' names user '{}', which users lacks", where,
                                    out.context, out.user));
    const std::string at_user = fmt::format("{}: users[{}]", where, out.user);
    if (user["exec"] || user["auth-provider"]) {
      return make_error(fmt::format(
          "{}.{} is not supported (credential plugins are not run): use a token (e.g. from "
          "`kubectl create token "
          "NAME` or your cloud's kubectl plugin, in tokenFile or the CLI's --token-file) or a "
          "client certificate",
          at_user, user["exec"] ? "exec" : "auth-provider"));
    }
    if (user["username"] || user["password"])
      return make_error(at_user +
                        ": basic authentication is not accepted by prescale; use a token or a "
                        "client certificate");
    out.token = user["token"].as<std::string>("");
    out.token_file = resolve(base, user["tokenFile"].as<std::string>(""));
    out.client_certificate_file = resolve(base, user["client-certificate"].as<std::string>(""));
    out.client_key_file = resolve(base, user["client-key"].as<std::string>(""));
    for (auto [key, pem] : {std::pair{"client-certificate-data", &out.client_certificate_pem},
                            std::pair{"client-key-data", &out.client_key_pem}}) {
      if (!user[key]) continue;
      auto data = base64_decode(user[key].as<std::string>());
      if (!data) return make_error(fmt::format("{}.{}: {}", at_user, key, data.error().message));
      *pem = std::move(*data);
    }
    const bool has_cert =
        !out.client_certificate_file.empty() || !out.client_certificate_pem.empty();
    const bool has_key = !out.client_key_file.empty() || !out.client_key_pem.empty();
    if (has_cert != has_key)
      return make_error(at_user +
                        ": a client certificate needs its key (client-key or "
                        "client-key-data), and a key its certificate");
    return out;
  } catch (const YAML::Exception& e) {
    return make_error(fmt::format("{}: {}", where, e.what()));
  }
}

}  // namespace prescale::config
