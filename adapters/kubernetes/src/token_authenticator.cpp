#include "token_authenticator.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "apiserver_client.hpp"
#include "prescale/common/text.hpp"

namespace prescale::kubernetes::detail {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

class TokenReviewer final : public TokenAuthenticator {
 public:
  TokenReviewer(ApiServerTarget target, TokenReviewOptions options)
      : target_(std::move(target)), options_(std::move(options)) {
    // A per-process key: the cache holds keyed hashes, so a memory dump
    // does not give out tokens (Kubernetes' cached token authenticator
    // keys its cache with an HMAC the same way).
    if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1) salt_.fill(0x5a);
  }

  TokenResult authenticate(const std::string& token) override {
    const std::string key = hash(token);
    {
      std::lock_guard lock(mutex_);
      if (const auto found = cache_.find(key); found != cache_.end()) {
        if (found->second.expires > Clock::now()) return found->second.result;
        cache_.erase(found);
      }
    }
    TokenResult result = review(token);
    // Failures to ask are not remembered: the next request asks again.
    if (result.kind != TokenResult::Kind::error) {
      const auto ttl = result.kind == TokenResult::Kind::authenticated ? options_.success_ttl
                                                                       : options_.failure_ttl;
      std::lock_guard lock(mutex_);
      if (cache_.size() > 10000) evict_expired();
      cache_[key] = Entry{result, Clock::now() + ttl};
    }
    return result;
  }

 private:
  struct Entry {
    TokenResult result;
    Clock::time_point expires;
  };

  std::string hash(const std::string& token) const {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
    EVP_DigestUpdate(context, salt_.data(), salt_.size());
    EVP_DigestUpdate(context, token.data(), token.size());
    EVP_DigestFinal_ex(context, digest.data(), &length);
    EVP_MD_CTX_free(context);
    return {reinterpret_cast<const char*>(digest.data()), length};
  }

  void evict_expired() {
    const auto now = Clock::now();
    for (auto it = cache_.begin(); it != cache_.end();)
      it = it->second.expires <= now ? cache_.erase(it) : std::next(it);
  }

  // One TokenReview, as k8s.io/apiserver/plugin/pkg/authenticator/token/webhook
  // sends it (spec.token, spec.audiences when set) and reads the answer.
  TokenResult review(const std::string& token) const {
    json spec = {{"token", token}};
    if (!options_.audiences.empty()) spec["audiences"] = options_.audiences;
    const json request = {{"apiVersion", "authentication.k8s.io/v1"},
                          {"kind", "TokenReview"},
                          {"spec", std::move(spec)}};
    const std::string path = "/apis/authentication.k8s.io/v1/tokenreviews";
    const std::string where = "token review at " + target_.server + path;
    auto reply = call_apiserver(target_, "POST", path,
                                request.dump(-1, ' ', false, json::error_handler_t::replace),
                                options_.apiserver.timeout);
    if (!reply) return {TokenResult::Kind::error, {}, "token review " + reply.error().message};
    if (reply->status < 200 || reply->status >= 300) {
      return {
          TokenResult::Kind::error,
          {},
          where + ": HTTP " + std::to_string(reply->status) + ": " + reply->body.substr(0, 512)};
    }
    const json answer = json::parse(reply->body, nullptr, false);
    if (answer.is_discarded() || !answer.is_object() || !answer.contains("status") ||
        !answer["status"].is_object()) {
      return {TokenResult::Kind::error, {}, where + ": reply is not a TokenReview"};
    }
    const json& status = answer["status"];
    const json error = status.value("error", json());
    if (!status.value("authenticated", false)) {
      return {TokenResult::Kind::rejected, {}, error.is_string() ? error.get<std::string>() : ""};
    }
    if (!options_.audiences.empty()) {
      // The review says which of the asked audiences the token is for; none
      // of ours is a rejection (webhook.go: audiences must intersect).
      const json audiences = status.value("audiences", json::array());
      bool ours = !audiences.is_array() || audiences.empty();
      if (audiences.is_array()) {
        for (const auto& audience : audiences) {
          for (const auto& wanted : options_.audiences)
            ours = ours || (audience.is_string() && audience == wanted);
        }
      }
      if (!ours) return {TokenResult::Kind::rejected, {}, "token is not for this audience"};
    }
    const json user = status.value("user", json::object());
    TokenResult out{TokenResult::Kind::authenticated, {}, {}};
    try {
      out.identity.user = user.value("username", "");
      out.identity.uid = user.value("uid", "");
      out.identity.groups = user.value("groups", std::vector<std::string>{});
      out.identity.extra = user.value("extra", std::map<std::string, std::vector<std::string>>{});
    } catch (const json::exception&) {
      return {TokenResult::Kind::error, {}, where + ": status.user is not a UserInfo"};
    }
    if (out.identity.user.empty())
      return {TokenResult::Kind::rejected, {}, "the review named no user"};
    return out;
  }

  ApiServerTarget target_;
  TokenReviewOptions options_;
  std::array<unsigned char, 32> salt_{};
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace

std::optional<std::string> bearer_token(const HeaderList& headers) {
  for (const auto& [name, value] : headers) {
    if (!iequals(name, "Authorization")) continue;
    // The first Authorization header counts (http.Header.Get).
    const std::string_view text = trim(value);
    if (text.empty()) return std::nullopt;
    const auto first_space = text.find(' ');
    if (first_space == std::string_view::npos) return std::nullopt;
    if (!iequals(text.substr(0, first_space), "bearer")) return std::nullopt;
    std::string_view rest = text.substr(first_space + 1);
    const std::string_view token = rest.substr(0, rest.find(' '));
    if (token.empty()) return std::nullopt;
    return std::string(token);
  }
  return std::nullopt;
}

Expected<std::unique_ptr<TokenAuthenticator>> make_token_authenticator(
    const TokenReviewOptions& options) {
  auto target = resolve_apiserver(options.apiserver);
  if (!target) return target.error();
  return std::unique_ptr<TokenAuthenticator>(
      std::make_unique<TokenReviewer>(std::move(*target), options));
}

}  // namespace prescale::kubernetes::detail
