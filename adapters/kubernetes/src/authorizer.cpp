#include "authorizer.hpp"

#include "apiserver_client.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace prescale::kubernetes::detail {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

class AlwaysAllow final : public Authorizer {
 public:
  Decision authorize(const Identity&, const RequestAttributes&) override {
    return {Decision::Kind::allow, {}};
  }
};

class Webhook final : public Authorizer {
 public:
  Webhook(ApiServerTarget target, const AuthorizationOptions& options)
      : target_(std::move(target)), options_(options) {}

  Decision authorize(const Identity& identity, const RequestAttributes& attributes) override {
    for (const auto& group : identity.groups) {
      if (std::find(options_.always_allow_groups.begin(), options_.always_allow_groups.end(),
                    group) != options_.always_allow_groups.end()) {
        return {Decision::Kind::allow, {}};
      }
    }
    const json review = review_json(identity, attributes);
    const std::string key = review["spec"].dump(-1, ' ', false, json::error_handler_t::replace);
    {
      std::lock_guard lock(mutex_);
      if (const auto found = cache_.find(key); found != cache_.end()) {
        if (found->second.expires > Clock::now()) return found->second.decision;
        cache_.erase(found);
      }
    }
    Decision decision = post(review);
    if (decision.kind != Decision::Kind::error) {
      const auto ttl =
          decision.kind == Decision::Kind::allow ? options_.allow_ttl : options_.deny_ttl;
      std::lock_guard lock(mutex_);
      if (cache_.size() > 10000) evict_expired();
      cache_[key] = Entry{decision, Clock::now() + ttl};
    }
    return decision;
  }

 private:
  struct Entry {
    Decision decision;
    Clock::time_point expires;
  };

  void evict_expired() {
    const auto now = Clock::now();
    for (auto it = cache_.begin(); it != cache_.end();)
      it = it->second.expires <= now ? cache_.erase(it) : std::next(it);
  }

  static json review_json(const Identity& identity, const RequestAttributes& attributes) {
    json spec = {{"user", identity.user}, {"groups", identity.groups}, {"uid", identity.uid}};
    if (!identity.extra.empty()) spec["extra"] = identity.extra;
    if (attributes.resource_request) {
      spec["resourceAttributes"] = {{"namespace", attributes.namespace_name},
                                    {"verb", attributes.verb},
                                    {"group", kGroup},
                                    {"version", kVersion},
                                    {"resource", attributes.resource}};
    } else {
      spec["nonResourceAttributes"] = {{"path", attributes.path}, {"verb", attributes.verb}};
    }
    return {{"apiVersion", "authorization.k8s.io/v1"},
            {"kind", "SubjectAccessReview"},
            {"spec", std::move(spec)}};
  }

  Decision post(const json& review) const {
    // User names and paths are client bytes: replace invalid UTF-8, never throw.
    const std::string body = review.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string path = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
    auto reply = call_apiserver(target_, "POST", path, body, options_.apiserver.timeout);
    if (!reply) return {Decision::Kind::error, "authorization webhook " + reply.error().message};
    if (reply->status < 200 || reply->status >= 300) {
      return {Decision::Kind::error, "authorization webhook " + target_.server + path + ": HTTP " +
                                         std::to_string(reply->status) + ": " +
                                         reply->body.substr(0, 512)};
    }
    const json answer = json::parse(reply->body, nullptr, false);
    if (answer.is_discarded() || !answer.is_object() || !answer.contains("status")) {
      return {Decision::Kind::error, "authorization webhook " + target_.server + path +
                                         ": reply is not a SubjectAccessReview"};
    }
    const json& result = answer["status"];
    const std::string reason = result.value("reason", "");
    // Denied and no-opinion both end as 403, as in kube-apiserver's webhook
    // authorizer followed by the authorization filter.
    if (result.value("allowed", false) && !result.value("denied", false))
      return {Decision::Kind::allow, reason};
    return {Decision::Kind::deny, reason};
  }

  ApiServerTarget target_;
  AuthorizationOptions options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace

Expected<std::unique_ptr<Authorizer>> make_authorizer(const AuthorizationOptions& options) {
  if (options.mode == AuthorizationOptions::Mode::always_allow) {
    return std::unique_ptr<Authorizer>(std::make_unique<AlwaysAllow>());
  }
  auto target = resolve_apiserver(options.apiserver);
  if (!target) return target.error();
  return std::unique_ptr<Authorizer>(std::make_unique<Webhook>(std::move(*target), options));
}

}  // namespace prescale::kubernetes::detail
