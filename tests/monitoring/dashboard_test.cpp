// The Grafana dashboard shipped with the chart, against a real Prometheus
// scraping a real prescale: `prescale demo` runs (the daemon on the bundled
// trace, an accelerated clock, TLS), Prometheus scrapes its /metrics every
// second with the demo's client certificate, and then
//   * every panel's every query (Grafana's variables filled in) returns data,
//   * every prescale_* metric a panel or an alert rule names exists,
//   * each panel's result is drawn with the report's SVG plot and the page
//     opens in headless Chromium showing ink (no Grafana here to screenshot).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../adapters/prometheus/prometheus_fixture.hpp"
#include "../report/png.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/prometheus/client.hpp"
#include "prescale/report/svg.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace prescale;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `prescale demo --slo 0.1` (so the tuning's figures are exported too) in its own process group;
// SIGINT ends it (its summary goes to the log), SIGKILL if it does not within 20 s.
class DemoProcess {
 public:
  DemoProcess(const fs::path& dir, int port) : log_(dir / "demo.log") {
    const std::vector<std::string> args{prescale::test::prescale_bin().string(),
                                        "demo",
                                        "--dir",
                                        dir.string(),
                                        "--port",
                                        std::to_string(port),
                                        "--speed",
                                        "600",
                                        "--slo",
                                        "0.1"};
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fd);
    REQUIRE(pid_ > 0);
  }
  ~DemoProcess() { stop(); }
  DemoProcess(const DemoProcess&) = delete;
  DemoProcess& operator=(const DemoProcess&) = delete;

  [[nodiscard]] std::string log() const { return slurp(log_); }
  [[nodiscard]] bool running() {
    int status = 0;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pid_ = -1;
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
};

// Grafana's variables as a dashboard user with every target selected sees them.
std::string with_variables(std::string expr) {
  expr = std::regex_replace(expr, std::regex(R"(\$target\b)"), ".*");
  expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval\b)"), "15s");
  return expr;
}

json get_json(prometheus::Client& client, const std::string& path,
              const std::vector<prometheus::Header>& params) {
  auto response = client.get(path, params);
  INFO(path);
  REQUIRE(response.has_value());
  INFO(response->body);
  REQUIRE(response->status == 200);
  return json::parse(response->body);
}

struct Query {
  std::string panel;
  std::string legend;
  std::string expr;
};

// Every query of every panel, rows' nested panels included.
void collect_queries(const json& panels, std::vector<Query>& out, std::set<std::string>& titles) {
  for (const auto& panel : panels) {
    if (panel.contains("panels")) collect_queries(panel["panels"], out, titles);
    if (!panel.contains("targets")) continue;
    titles.insert(panel.value("title", ""));
    for (const auto& target : panel["targets"])
      out.push_back(
          {panel.value("title", ""), target.value("legendFormat", ""), target.value("expr", "")});
  }
}

std::set<std::string> metric_names(const std::string& text) {
  std::set<std::string> names;
  const std::regex name(R"(\bprescale_[a-z_]+[a-z]\b)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it)
    names.insert(it->str());
  return names;
}

}  // namespace

TEST_CASE("every panel of the shipped Grafana dashboard has data from a running prescale",
          "[monitoring][dashboard]") {
  const json dashboard =
      json::parse(slurp(test::source_dir() / "charts/prescale/files/grafana-dashboard.json"));
  std::vector<Query> queries;
  std::set<std::string> titles;
  collect_queries(dashboard.at("panels"), queries, titles);
  REQUIRE(titles.size() >= 16);

  test::TempDir dir("prescale-dashboard");
  const int demo_port = test::PrometheusFixture::free_port();
  DemoProcess demo(dir.path, demo_port);
  REQUIRE(test::wait_for(
      [&] {
        return demo.log().find("serving the External Metrics API") != std::string::npos ||
               !demo.running();
      },
      std::chrono::seconds(60)));
  INFO("demo log:\n" << demo.log().substr(0, 3000));
  REQUIRE(demo.running());

  test::PrometheusFixture::Options options;
  options.scrape_interval = "1s";
  options.scrape_configs = fmt::format(
      R"([{{job_name: prescale, scheme: https, scrape_interval: 1s, scrape_timeout: 1s,
  tls_config: {{ca_file: "{0}/ca.crt", cert_file: "{0}/client.crt", key_file: "{0}/client.key"}},
  static_configs: [{{targets: ["127.0.0.1:{1}"]}}]}}])",
      dir.path.string(), demo_port);
  test::PrometheusFixture prom({}, options);

  prometheus::ClientOptions client_options;
  client_options.url = prom.url();
  prometheus::Client client(client_options);
  // The demo's metric route, so the API latency panel shows it beside /metrics.
  prometheus::ClientOptions api_options;
  api_options.url = fmt::format("https://127.0.0.1:{}", demo_port);
  api_options.ca_file = (dir.path / "ca.crt").string();
  api_options.client_cert_file = (dir.path / "client.crt").string();
  api_options.client_key_file = (dir.path / "client.key").string();
  prometheus::Client api(api_options);

  // Until the first model serves and scores samples: a fitted model's
  // MASE and the interval each sample is held to, ten scrapes of each; and
  // until a refit has replayed the values served (the demo refits every 6
  // simulated hours, 36 s here) beside the reactive HPA retuned the same way.
  const bool scraped = test::wait_for(
      [&] {
        (void)api.get(
            "/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/"
            "payments-rps-forecast",
            {});
        const auto reply =
            get_json(client, "/api/v1/query",
                     {{"query",
                       "min(count_over_time(prescale_target_backtest_mase[1m])) >= 10 and "
                       "min(count_over_time(prescale_target_interval[1m])) >= 10 and "
                       "min(count_over_time(prescale_api_request_duration_seconds_count[1m])) "
                       ">= 10 and min(count_over_time("
                       "prescale_target_slo_served_reactive_replica_hours[1m])) >= 10"}});
        return !reply["data"]["result"].empty();
      },
      std::chrono::seconds(240));
  INFO("prometheus log:\n" << prom.log());
  REQUIRE(scraped);

  const auto end =
      static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  const std::int64_t start = end - 60;

  // Every query returns at least one series with a finite value.
  std::map<std::string, std::vector<std::pair<std::string, std::vector<double>>>> by_panel;
  for (const auto& query : queries) {
    const std::string expr = with_variables(query.expr);
    INFO(query.panel << " / " << query.legend << ": " << expr);
    const auto reply = get_json(client, "/api/v1/query_range",
                                {{"query", expr},
                                 {"start", std::to_string(start)},
                                 {"end", std::to_string(end)},
                                 {"step", "1"}});
    REQUIRE(reply["status"] == "success");
    const auto& result = reply["data"]["result"];
    CHECK(!result.empty());
    bool finite = false;
    for (const auto& series : result) {
      std::vector<double> values(61, std::nan(""));
      for (const auto& point : series["values"]) {
        const auto t = static_cast<std::int64_t>(point[0].get<double>());
        const double v = std::stod(point[1].get<std::string>());
        if (t >= start && t <= end) values[static_cast<std::size_t>(t - start)] = v;
        finite = finite || std::isfinite(v);
      }
      by_panel[query.panel].push_back({query.legend + " " + series["metric"].dump(), values});
    }
    CHECK(finite);
  }

  // No panel or alert names a metric prescale does not export.
  const auto names = get_json(client, "/api/v1/label/__name__/values", {});
  std::set<std::string> exported;
  for (const auto& name : names["data"]) exported.insert(name.get<std::string>());
  std::string referenced_text =
      slurp(test::source_dir() / "charts/prescale/files/prometheus-rules.yaml");
  for (const auto& query : queries) referenced_text += "\n" + query.expr;
  const auto referenced = metric_names(referenced_text);
  CHECK(referenced.size() >= 15);
  for (const auto& name : referenced) {
    INFO("referenced by a panel or an alert: " << name);
    CHECK(exported.count(name) == 1);
  }

  // Each panel drawn as the report draws time plots, all on one page.
  const char* palette[] = {"#2563eb", "#dc2626", "#16a34a", "#f59e0b", "#7c3aed", "#0891b2"};
  std::string page =
      "<!doctype html><html><head><meta charset=\"utf-8\"><style>body{margin:8px;font:11px "
      "sans-serif;background:#fff} .p{display:inline-block;width:390px;vertical-align:top}"
      "</style></head><body>\n";
  const auto utc = calendar::TimeZone::find("UTC");
  REQUIRE(utc.has_value());
  int index = 0;
  for (const auto& [title, series] : by_panel) {
    report::TimePlot plot;
    plot.id = "panel" + std::to_string(index++);
    plot.title = title;
    plot.start_unix = start;
    plot.step_seconds = 1;
    plot.width = 380;
    plot.height = 170;
    for (std::size_t i = 0; i < series.size() && i < 6; ++i)
      plot.lines.push_back({series[i].first.substr(0, 40), palette[i], series[i].second});
    const std::string svg = report::render_time_plot_svg(plot, *utc);
    INFO(title);
    CHECK(svg.find("stroke=\"#2563eb\"") != std::string::npos);  // the first series is drawn
    page += "<div class=\"p\">" + svg + "</div>\n";
  }
  page += "</body></html>\n";
  const fs::path html = dir.path / "dashboard.html";
  std::ofstream(html) << page;

  const fs::path png = dir.path / "dashboard.png";
  const std::string command =
      "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir=" +
      (dir.path / "chromium-profile").string() + " --screenshot=" + png.string() +
      " --window-size=1200,1500 file://" + html.string() + " > " +
      (dir.path / "chromium.log").string() + " 2>&1";
  INFO(slurp(dir.path / "chromium.log"));
  REQUIRE(std::system(command.c_str()) == 0);
  std::string error;
  const auto image = test::read_png(png, error);
  INFO(error);
  REQUIRE(error.empty());
  std::set<std::uint32_t> colours;
  std::size_t ink = 0, blue = 0;
  for (auto pixel : image.pixels) {
    colours.insert(pixel);
    ink += pixel != image.pixels.front() ? 1 : 0;
    const int r = static_cast<int>(pixel >> 16 & 0xff), g = static_cast<int>(pixel >> 8 & 0xff),
              b = static_cast<int>(pixel & 0xff);
    blue += std::abs(r - 0x25) + std::abs(g - 0x63) + std::abs(b - 0xeb) <= 40 ? 1 : 0;
  }
  CHECK(colours.size() > 50);
  CHECK(static_cast<double>(ink) / static_cast<double>(image.pixels.size()) > 0.03);
  CHECK(blue > 13 * 20);  // the first series (1.5 px wide) visible across the panels
  demo.stop();
}
