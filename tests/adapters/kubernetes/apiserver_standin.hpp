#pragma once
// A kube-apiserver stand-in over HTTPS (cpp-httplib) answering what prescale
// asks the apiserver: SubjectAccessReviews, TokenReviews and the
// kube-system/extension-apiserver-authentication ConfigMap. Its own callers
// must present `credential` as a bearer token, as the service account's.
// Wire formats as Kubernetes documents them (authorization.k8s.io/v1,
// authentication.k8s.io/v1: the request is echoed with a status added).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace prescale::kubernetes::test {

struct ReviewServer {
  using json = nlohmann::json;
  httplib::SSLServer http;
  std::thread thread;
  std::atomic<int> reviews{0};        // SubjectAccessReviews answered
  std::atomic<int> token_reviews{0};  // TokenReviews answered
  std::atomic<int> delay_ms{0};       // a slow apiserver keeps a request in flight
  std::mutex mutex;
  std::string credential = "test-token";  // what prescale must send (mutex)
  json last_review;
  json last_token_review;
  json configmap;  // kube-system/extension-apiserver-authentication, when set
  std::atomic<int> configmap_reads{0};
  // Tokens the TokenReview knows: token -> status.user (mutex).
  std::map<std::string, json> tokens{
      {"alice-token",
       {{"username", "alice"},
        {"uid", "alice-uid"},
        {"groups", {"team-a"}},
        {"extra", {{"authentication.kubernetes.io/pod-name", {"runner-7f9c"}}}}}},
      {"carol-token", {{"username", "carol"}, {"uid", "carol-uid"}, {"groups", {"team-c"}}}}};
  // The audiences a token was made for (mutex); a token not listed is for the
  // apiserver's own, kApiAudience (what `kubectl create token` makes by default).
  std::map<std::string, std::vector<std::string>> token_audiences;
  static constexpr const char* kApiAudience = "https://kubernetes.default.svc";
  int port = 0;

  bool caller_ok(const httplib::Request& request) {
    std::lock_guard lock(mutex);
    return request.get_header_value("Authorization") == "Bearer " + credential;
  }

  ReviewServer(const std::string& cert, const std::string& key) : http(cert.c_str(), key.c_str()) {
    http.Post("/apis/authorization.k8s.io/v1/subjectaccessreviews",
              [this](const httplib::Request& request, httplib::Response& response) {
                if (!caller_ok(request)) {
                  response.status = 401;
                  return;
                }
                ++reviews;
                std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
                json review = json::parse(request.body);
                {
                  std::lock_guard lock(mutex);
                  last_review = review;
                }
                const auto& spec = review["spec"];
                // alice may read orders-rps and the daemon's status views.
                const bool allowed = spec["user"] == "alice" &&
                                     ((spec.contains("resourceAttributes") &&
                                       spec["resourceAttributes"]["resource"] == "orders-rps") ||
                                      (spec.contains("nonResourceAttributes") &&
                                       (spec["nonResourceAttributes"]["path"] == "/status" ||
                                        spec["nonResourceAttributes"]["path"] == "/decisions")));
                review["status"] =
                    allowed ? json{{"allowed", true}}
                            : json{{"allowed", false}, {"reason", "no RBAC policy matched"}};
                response.set_content(review.dump(), "application/json");
              });
    http.Post("/apis/authentication.k8s.io/v1/tokenreviews", [this](const httplib::Request& request,
                                                                    httplib::Response& response) {
      if (!caller_ok(request)) {
        response.status = 401;
        response.set_content(R"({"kind":"Status","apiVersion":"v1","status":"Failure",)"
                             R"("message":"Unauthorized","reason":"Unauthorized","code":401})",
                             "application/json");
        return;
      }
      ++token_reviews;
      json review = json::parse(request.body);
      std::lock_guard lock(mutex);
      last_token_review = review;
      const auto token = review["spec"].value("token", "");
      const auto known = tokens.find(token);
      // As the kube-apiserver answers: the audiences asked for (its own when
      // none) that the token was made for; none in common is a rejection.
      const auto made_for = token_audiences.count(token) ? token_audiences.at(token)
                                                         : std::vector<std::string>{kApiAudience};
      auto wanted = review["spec"].value("audiences", std::vector<std::string>{});
      if (wanted.empty()) wanted = {kApiAudience};
      std::vector<std::string> common;
      for (const auto& audience : wanted) {
        if (std::find(made_for.begin(), made_for.end(), audience) != made_for.end())
          common.push_back(audience);
      }
      if (known == tokens.end()) {
        review["status"] = json{{"authenticated", false}, {"error", "invalid bearer token"}};
      } else if (common.empty()) {
        review["status"] = json{{"authenticated", false},
                                {"error", "token audiences are invalid for the target audiences"}};
      } else {
        review["status"] =
            json{{"authenticated", true}, {"user", known->second}, {"audiences", common}};
      }
      response.set_content(review.dump(), "application/json");
    });
    http.Get("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
             [this](const httplib::Request& request, httplib::Response& response) {
               const bool ok = caller_ok(request);
               std::lock_guard lock(mutex);
               if (!ok || configmap.is_null()) {
                 response.status = configmap.is_null() ? 404 : 401;
                 return;
               }
               ++configmap_reads;
               response.set_content(configmap.dump(), "application/json");
             });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { http.listen_after_bind(); });
    while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ReviewServer() {
    http.stop();
    thread.join();
  }
};

/// A kubeconfig reaching the stand-in at `port` (CA file `ca`) with the
/// token `test-token`, or with `token_file` when given.
inline std::string kubeconfig(const std::string& ca, int port, const std::string& token_file = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
         "clusters:\n- name: local\n  cluster:\n    server: https://127.0.0.1:" +
         std::to_string(port) + "\n    certificate-authority: " + ca +
         "\nusers:\n- name: reviewer\n  user:\n    " +
         (token_file.empty() ? std::string("token: test-token") : "tokenFile: " + token_file) +
         "\ncontexts:\n- name: test\n  context:\n    cluster: local\n    user: reviewer\n";
}

}  // namespace prescale::kubernetes::test
