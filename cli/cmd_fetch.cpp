// `prescale fetch`: exports a PromQL query's history to CSV, for offline
// backtests and simulations (`--input` then reads it back unchanged).
#include <fmt/core.h>

#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/file/csv_series.hpp"
#include "prometheus_input.hpp"

namespace prescale::cli {
namespace {

struct FetchArgs {
  PrometheusInput prometheus;
  std::string step = "1m";
  std::string output = "-";
  bool quiet = false;
};

void run_fetch(const FetchArgs& args) {
  auto step = config::parse_duration_seconds(args.step);
  if (!step || *step <= 0)
    throw Failure(fmt::format("--step '{}': expected a positive duration such as 1m", args.step));
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> notes;
  const forecast::Series series =
      load_prometheus_series(args.prometheus, *step, &notes, !args.quiet);
  if (args.output == "-") {
    fmt::print("{}", file::format_csv_series(series));
  } else if (Status written = file::write_csv_series(args.output, series); !written) {
    throw Failure(written.error().message);
  }
  if (!args.quiet) {
    for (const std::string& note : notes) fmt::print(stderr, "note: {}\n", note);
    fmt::print(stderr, "fetch: wrote {} steps to {} in {:.2f} s\n", series.size(),
               args.output == "-" ? "stdout" : args.output,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
}

}  // namespace

void add_fetch_command(CLI::App& app) {
  auto args = std::make_shared<FetchArgs>();
  auto* cmd = app.add_subcommand(
      "fetch", "Export a Prometheus query's history to CSV for offline backtests");
  cmd->footer(
      "Reads /api/v1/query_range in chunks under Prometheus's 11,000-points-per-series limit,\n"
      "stitched on a grid aligned to --step; missing steps are written as NaN (gaps). The CSV\n"
      "is what `--input` reads: `prescale forecast --input F.csv` then gives the same forecast\n"
      "as `prescale forecast --prometheus URL --query Q` over the same range.\n\n"
      "Example:\n"
      "  prescale fetch --prometheus http://prometheus:9090 \\\n"
      "    --query 'sum(rate(http_requests_total{job=\"api\"}[5m]))' --history 35d --output "
      "api.csv\n"
      "  prescale fetch --prometheus https://mimir/prometheus --header 'X-Scope-OrgID: team-a' \\\n"
      "    --query 'sum(up)' --start 2026-01-01T00:00:00Z --end 2026-02-01T00:00:00Z --step 5m "
      "--output up.csv");
  auto* url = add_prometheus_options(*cmd, args->prometheus, "--history");
  url->required();
  cmd->add_option("--step", args->step, "Grid step (query_range step)")->capture_default_str();
  cmd->add_option("--output,-o", args->output, "CSV file to write ('-' = stdout)")
      ->capture_default_str();
  cmd->add_flag("--quiet,-q", args->quiet, "No progress or notes on stderr");
  cmd->callback([args] { run_fetch(*args); });
}

}  // namespace prescale::cli
