// `prescale generate`: a synthetic load trace as CSV (timestamp,value), for
// demos, tests and benchmarks without a cluster.
#include <fmt/core.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/calendar/civil_date.hpp"
#include "prescale/common/time.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/file/csv_series.hpp"

namespace prescale::cli {
namespace {

using file::format_csv_series;
using file::write_csv_series;

struct GenerateArgs {
  std::string kind = "payments";
  std::string start = "2026-02-02";
  int days = 28;
  std::string step = "1m";
  std::string time_zone = "America/New_York";
  std::uint64_t seed = 1;
  double noise = 0.05;
  double level = 1000;
  bool no_weekly = false, no_market_open = false, no_payroll = false, no_month_end = false,
       no_random_spikes = false;
  std::vector<std::string> outages;
  double outage_factor = 0.5;
  std::string spike;
  double spike_factor = 3.0;
  std::string payroll_effect = "multiplicative";
  std::string payroll_shape = "plateau";
  double payroll_mid_size = 0, payroll_end_size = 0;  // 0 = a size drawn per day
  double payroll_jitter = 0.05;
  std::optional<double> open_burst_size;  // none = a size drawn per day
  std::vector<std::string> holidays;
  std::string calendar_out;
  std::string output = "-";
  // Known incidents for anomaly benchmarks, and the file that lists them.
  int incidents = 0;
  std::string incident_drop = "0.4-0.7";
  std::string incident_surge = "1.3-1.8";
  std::string incident_duration = "15m-90m";
  std::string incidents_after = "0s";
  std::optional<std::uint64_t> incident_seed;
  std::string truth;
};

// "0.4-0.7" -> {0.4, 0.7}.
std::pair<double, double> factor_range(const std::string& option, const std::string& text) {
  const auto dash = text.find('-', 1);
  try {
    if (dash != std::string::npos) {
      std::size_t used_min = 0, used_max = 0;
      const double low = std::stod(text.substr(0, dash), &used_min);
      const double high = std::stod(text.substr(dash + 1), &used_max);
      if (used_min == dash && used_max == text.size() - dash - 1) return {low, high};
    }
  } catch (const std::exception&) {
  }
  throw Failure(
      fmt::format("{}: '{}' is not a range of load factors such as 0.4-0.7", option, text));
}

// "15m-90m" -> seconds.
std::pair<std::int64_t, std::int64_t> duration_range(const std::string& option,
                                                     const std::string& text) {
  const auto dash = text.find('-');
  if (dash != std::string::npos) {
    auto low = config::parse_duration_seconds(text.substr(0, dash));
    auto high = config::parse_duration_seconds(text.substr(dash + 1));
    if (low && high) return {*low, *high};
  }
  throw Failure(fmt::format("{}: '{}' is not a range of durations such as 15m-90m", option, text));
}

// Options that shape what only the payments kind has.
constexpr const char* kPaymentsOnly[] = {
    "--no-weekly",        "--no-market-open", "--no-payroll",      "--no-month-end",
    "--no-random-spikes", "--payroll-effect", "--payroll-shape",   "--payroll-mid-size",
    "--payroll-end-size", "--payroll-jitter", "--open-burst-size", "--holiday",
    "--calendar-out"};

void run_generate(const GenerateArgs& args, const CLI::App& cmd) {
  autoscaler::TraceOptions options;
  auto kind = autoscaler::parse_trace_kind(args.kind);
  if (!kind) throw Failure("--kind: " + kind.error().message);
  options.kind = *kind;
  if (options.kind != autoscaler::TraceKind::payments) {
    for (const char* name : kPaymentsOnly)
      if (cmd.count(name) > 0)
        throw Failure(
            fmt::format("{}: only the payments kind has it (--kind {})", name, args.kind));
  }
  auto effect = autoscaler::parse_event_effect(args.payroll_effect);
  if (!effect) throw Failure("--payroll-effect: " + effect.error().message);
  options.payroll_effect = *effect;
  auto shape = autoscaler::parse_event_shape(args.payroll_shape);
  if (!shape) throw Failure("--payroll-shape: " + shape.error().message);
  options.payroll_shape = *shape;
  if (args.payroll_mid_size > 0) options.payroll_mid_size = args.payroll_mid_size;
  if (args.payroll_end_size > 0) options.payroll_end_size = args.payroll_end_size;
  options.payroll_jitter = args.payroll_jitter;
  options.open_burst_size = args.open_burst_size;
  for (const std::string& text : args.holidays) {
    auto day = calendar::parse_civil_date(text);
    if (!day) throw Failure("--holiday: " + day.error().message);
    options.extra_holidays.push_back(*day);
  }
  auto zone = calendar::TimeZone::find(args.time_zone);
  if (!zone) throw Failure("--timezone: " + zone.error().message);
  options.time_zone = args.time_zone;
  auto start = autoscaler::parse_trace_time(args.start, *zone);
  if (!start) throw Failure("--start: " + start.error().message);
  options.start_unix = *start;
  auto step = config::parse_duration_seconds(args.step);
  if (!step) throw Failure("--step: " + step.error().message);
  options.step_seconds = *step;
  options.days = args.days;
  options.seed = args.seed;
  options.noise = args.noise;
  options.level = args.level;
  options.weekly = !args.no_weekly;
  options.market_open = !args.no_market_open;
  options.payroll = !args.no_payroll;
  options.month_end_batch = !args.no_month_end;
  options.random_spikes = !args.no_random_spikes;
  for (const std::string& text : args.outages) {
    auto window = autoscaler::parse_trace_window(text, *zone);
    if (!window) throw Failure("--outage: " + window.error().message);
    options.outages.push_back(*window);
  }
  options.outage_factor = args.outage_factor;
  if (!args.spike.empty()) {
    auto window = autoscaler::parse_trace_window(args.spike, *zone);
    if (!window) throw Failure("--spike: " + window.error().message);
    options.spike = *window;
  }
  options.spike_factor = args.spike_factor;
  if (args.incidents != 0) {
    autoscaler::IncidentDraw draw;
    draw.count = args.incidents;
    std::tie(draw.drop_min, draw.drop_max) = factor_range("--incident-drop", args.incident_drop);
    std::tie(draw.surge_min, draw.surge_max) =
        factor_range("--incident-surge", args.incident_surge);
    std::tie(draw.min_seconds, draw.max_seconds) =
        duration_range("--incident-duration", args.incident_duration);
    auto after = config::parse_duration_seconds(args.incidents_after);
    if (!after) throw Failure("--incidents-after: " + after.error().message);
    draw.after_seconds = *after;
    draw.seed = args.incident_seed.value_or(args.seed);
    auto incidents = autoscaler::draw_incidents(options, draw);
    if (!incidents) throw Failure(incidents.error().message);
    options.incidents = std::move(*incidents);
  }

  std::vector<autoscaler::TraceTruthEntry> truth;
  auto series = autoscaler::generate_trace(options, &truth);
  if (!series) throw Failure(series.error().message);
  if (!args.calendar_out.empty()) {
    std::FILE* out = std::fopen(args.calendar_out.c_str(), "wb");
    const std::string yaml =
        "# The calendars of a `prescale generate --kind payments` trace.\n" +
        autoscaler::payments_calendars_yaml(args.time_zone, options.extra_holidays);
    const bool ok = out != nullptr && std::fwrite(yaml.data(), 1, yaml.size(), out) == yaml.size();
    if (out == nullptr || std::fclose(out) != 0 || !ok)
      throw Failure(args.calendar_out + ": cannot write the calendars");
  }
  if (args.output == "-") {
    const std::string text = format_csv_series(*series);
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else if (auto written = write_csv_series(args.output, *series); !written) {
    throw Failure(written.error().message);
  }
  if (!args.truth.empty()) {
    std::ofstream out(args.truth, std::ios::binary | std::ios::trunc);
    out << autoscaler::format_trace_truth(truth);
    out.close();
    if (!out) throw Failure("--truth " + args.truth + ": cannot write the file");
  }
  fmt::print(stderr, "prescale generate: {} trace, {} samples every {} from {} to {} ({}){}\n",
             autoscaler::to_string(options.kind), series->size(),
             config::format_duration(options.step_seconds), format_rfc3339(series->start_unix),
             format_rfc3339(series->end_unix()), args.time_zone,
             args.output == "-" ? std::string() : " -> " + args.output);
  if (!options.incidents.empty() || !args.truth.empty()) {
    fmt::print(stderr, "prescale generate: {} incidents{}\n", options.incidents.size(),
               args.truth.empty() ? std::string() : ", truth -> " + args.truth);
  }
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Write a synthetic load trace (requests/s) as CSV");
  cmd->footer(
      "Kinds:\n"
      "  payments    a payments service in --timezone: daily and weekly rhythm, a burst at the\n"
      "              09:30 New York market open on NYSE business days, payroll surges (2.5-3.5x,\n"
      "              06:00-11:00) on the 15th (previous business day if needed) and the last\n"
      "              business day, a month-end batch 20:00-23:00, noise and small random spikes.\n"
      "              Its calendars are config/calendars/payments.yaml.\n"
      "  flat        a constant --level with noise.\n"
      "  flat-spike  flat plus one unannounced spike (default: 3/4 into the trace, 15:00 local,\n"
      "              45 min, x3): a forecast that anticipates it has seen the future.\n\n"
      "Times: 2026-02-02 (local midnight in --timezone), 2026-02-02T09:30 (local), or RFC 3339\n"
      "such as 2026-03-10T14:00Z. Windows: <time>/<duration>, e.g. 2026-03-10T14:00Z/1h.\n\n"
      "Incidents (for judging anomaly detection): --incidents N places N incidents after\n"
      "--incidents-after, one in each of N equal slices of the rest of the trace, at any hour;\n"
      "each multiplies the load by a factor drawn from --incident-drop or --incident-surge\n"
      "(even odds) for a duration drawn from --incident-duration, switched on and off at once.\n"
      "--truth writes what no calendar explains (incidents, outages, the spike, the small\n"
      "random spikes) as CSV: kind,start,end,factor.\n\n"
      "Example:\n"
      "  prescale generate --kind payments --start 2026-02-02 --days 84 --step 1m \\\n"
      "      --timezone America/New_York --seed 1 --output trace.csv\n"
      "  prescale generate --days 56 --incidents 4 --incidents-after 28d --seed 2 \\\n"
      "      --output trace.csv --truth truth.csv");
  cmd->add_option("--kind", args->kind, "payments, flat or flat-spike")->capture_default_str();
  cmd->add_option("--start", args->start, "first sample")->capture_default_str();
  cmd->add_option("--days", args->days, "length in days")->capture_default_str();
  cmd->add_option("--step", args->step, "sample spacing, e.g. 1m, 5m")->capture_default_str();
  cmd->add_option("--timezone", args->time_zone, "tz database zone of the daily rhythm and payroll")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "random seed; the same seed gives the same trace")
      ->capture_default_str();
  cmd->add_option("--noise", args->noise, "standard deviation of the multiplicative log-noise")
      ->capture_default_str();
  cmd->add_option("--level", args->level,
                  "requests/s at a weekday's busy hours (or the flat level)")
      ->capture_default_str();
  cmd->add_flag("--no-weekly", args->no_weekly, "same rhythm on weekends and holidays");
  auto* no_market_open =
      cmd->add_flag("--no-market-open", args->no_market_open, "no 09:30 New York burst");
  cmd->add_flag("--no-payroll", args->no_payroll, "no payroll surges or quad witching");
  cmd->add_flag("--no-month-end", args->no_month_end, "no month-end batch");
  cmd->add_flag("--no-random-spikes", args->no_random_spikes, "no small random spikes");
  cmd->add_option("--outage", args->outages,
                  "window with traffic times --outage-factor (repeatable)");
  cmd->add_option("--outage-factor", args->outage_factor, "traffic factor during outages")
      ->capture_default_str()
      ->needs(cmd->get_option("--outage"));
  cmd->add_option("--spike", args->spike, "window of an unannounced spike");
  cmd->add_option("--spike-factor", args->spike_factor, "traffic factor at the spike's peak")
      ->capture_default_str();
  auto* no_payroll = cmd->get_option("--no-payroll");
  cmd->add_option("--payroll-effect", args->payroll_effect,
                  "how a payroll surge changes the load: multiplicative (scales the day's\n"
                  "rhythm), additive (adds a fixed amount), interacting (scales the rhythm and\n"
                  "the 09:30 open burst, so the peak is where they meet)")
      ->capture_default_str()
      ->excludes(no_payroll);
  cmd->add_option("--payroll-shape", args->payroll_shape,
                  "profile over 06:00-11:00: plateau, ramp (climbs to 10:30) or spike (peaks at\n"
                  "07:00, decays over ~40 min)")
      ->capture_default_str()
      ->excludes(no_payroll);
  cmd->add_option("--payroll-mid-size", args->payroll_mid_size,
                  "payroll-mid peak as a multiple of the usual load (default: 2.5-3.5 per day)")
      ->excludes(no_payroll);
  cmd->add_option("--payroll-end-size", args->payroll_end_size,
                  "payroll-end peak as a multiple of the usual load (default: 2.5-3.5 per day)")
      ->excludes(no_payroll);
  cmd->add_option("--payroll-jitter", args->payroll_jitter,
                  "with a size: each day's (size - 1) varies by up to this fraction")
      ->capture_default_str()
      ->excludes(no_payroll);
  cmd->add_option("--open-burst-size", args->open_burst_size,
                  "09:30 open burst size, 0 to 100 (1.3: the load rises by about the busy-hour\n"
                  "level at its peak; default: 1.1-1.5 per day)")
      ->excludes(no_market_open);
  cmd->add_option("--holiday", args->holidays,
                  "an NYSE closure beyond the built-in list, YYYY-MM-DD (repeatable); payroll on\n"
                  "that day moves to the business day before");
  cmd->add_option("--calendar-out", args->calendar_out,
                  "also write the calendars the trace follows (YAML for --calendar; holidays\n"
                  "written out, --holiday included)");
  cmd->add_option("-o,--output", args->output, "CSV file, or - for stdout")->capture_default_str();
  auto* incidents = cmd->add_option_group("Incidents", "known incidents for anomaly benchmarks");
  incidents->add_option("--incidents", args->incidents, "how many incidents to place")
      ->capture_default_str();
  incidents
      ->add_option("--incident-drop", args->incident_drop, "load factor range of a drop (MIN-MAX)")
      ->capture_default_str();
  incidents
      ->add_option("--incident-surge", args->incident_surge,
                   "load factor range of a surge (MIN-MAX)")
      ->capture_default_str();
  incidents->add_option("--incident-duration", args->incident_duration, "duration range (MIN-MAX)")
      ->capture_default_str();
  incidents
      ->add_option("--incidents-after", args->incidents_after,
                   "no incident before the trace start plus this (e.g. the history a replay "
                   "fits on first)")
      ->capture_default_str();
  incidents->add_option("--incident-seed", args->incident_seed,
                        "seed of the incidents' times, sizes and durations (default: --seed)");
  incidents->add_option("--truth", args->truth,
                        "write the ground truth (kind,start,end,factor) to this CSV file");
  cmd->callback([args, cmd] { run_generate(*args, *cmd); });
}

}  // namespace prescale::cli
