#include "output.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "prescale/common/time.hpp"
#include "prescale/file/csv_series.hpp"

namespace prescale::cli {
namespace {

using nlohmann::ordered_json;

// JSON has no NaN: unknown numbers are null.
ordered_json number(double x) {
  return std::isfinite(x) ? ordered_json(x) : ordered_json(nullptr);
}

std::string cell(double x, const char* spec = "{:.4g}") {
  return std::isfinite(x) ? fmt::format(fmt::runtime(spec), x) : std::string("-");
}

std::string csv_number(double x) {
  return std::isfinite(x) ? fmt::format("{}", x) : std::string("NaN");
}

}  // namespace

std::string render_forecast(const ForecastReport& report, const std::string& format) {
  const forecast::Selection& s = *report.selection;
  if (format == "csv") {
    std::string out = "timestamp,mean,lower,upper\n";
    for (const ForecastPoint& p : report.points) {
      out += fmt::format("{},{},{},{}\n", format_rfc3339(p.unix_seconds), csv_number(p.mean),
                         csv_number(p.lower), csv_number(p.upper));
    }
    return out;
  }
  if (format == "table") {
    std::string out =
        fmt::format("model: {}\nwhy:   {}\nfit:   {:.3f} s\n", s.model, s.reason, s.fit_seconds);
    for (const std::string& note : report.notes) {
      if (note.rfind("model choice: ", 0) != 0) out += "note:  " + note + "\n";  // shown as why:
    }
    out += fmt::format("\n{:<21} {:>12} {:>12} {:>12}\n", "timestamp", "mean",
                       fmt::format("q{:g}", 100 * (1 - report.quantile)),
                       fmt::format("q{:g}", 100 * report.quantile));
    for (const ForecastPoint& p : report.points) {
      out += fmt::format("{:<21} {:>12} {:>12} {:>12}\n", format_rfc3339(p.unix_seconds),
                         cell(p.mean, "{:.6g}"), cell(p.lower, "{:.6g}"), cell(p.upper, "{:.6g}"));
    }
    return out;
  }
  ordered_json json;
  json["model"] = s.model;
  ordered_json parameters = ordered_json::object();
  if (s.fitted) {
    for (const auto& [name, value] : s.fitted->parameters()) parameters[name] = number(value);
  }
  json["parameters"] = parameters;
  json["step_seconds"] = report.step_seconds;
  json["fit_seconds"] = s.fit_seconds;
  ordered_json points = ordered_json::array();
  for (const ForecastPoint& p : report.points) {
    points.push_back({{"timestamp", format_rfc3339(p.unix_seconds)},
                      {"mean", number(p.mean)},
                      {"lower", number(p.lower)},
                      {"upper", number(p.upper)}});
  }
  json["points"] = points;
  json["notes"] = report.notes;
  return json.dump(2) + "\n";
}

std::string render_backtest(const BacktestReport& report, const std::string& format) {
  const forecast::Selection& s = *report.selection;
  if (format == "csv") {
    std::string out = "model,mase,smape,coverage,fit_seconds_mean";
    out += report.served ? ",decision_loss\n" : "\n";
    for (const auto& score : s.scores) {
      out += fmt::format("{},{},{},{},{}", score.model, csv_number(score.mase),
                         csv_number(score.smape), csv_number(score.coverage),
                         csv_number(score.fit_seconds_mean));
      out += report.served ? fmt::format(",{}\n", csv_number(score.decision)) : "\n";
    }
    return out;
  }
  if (format == "table") {
    std::string out =
        fmt::format("{} origins, horizon {} s, interval q{:g}-q{:g}\n\n", s.origins,
                    report.horizon_seconds, 100 * (1 - report.quantile), 100 * report.quantile);
    if (report.served) {
      out.resize(out.size() - 2);  // the served window on the same line
      out += fmt::format(
          "; decision: pinball loss of the served q{:g} peak of {} lead steps, over seasonal "
          "naive's\n\n",
          100 * report.served->quantile, report.served->steps);
    }
    std::size_t width = 5;
    for (const auto& score : s.scores) width = std::max(width, score.model.size());
    out += fmt::format("{:<{}}  {:>7}  {:>7}  {:>8}  {:>9}", "model", width, "MASE", "sMAPE%",
                       "coverage", "fit s");
    out += report.served ? fmt::format("  {:>8}\n", "decision") : "\n";
    for (const auto& score : s.scores) {
      out += fmt::format("{:<{}}  {:>7}  {:>7}  {:>8}  {:>9}", score.model, width,
                         cell(score.mase, "{:.3f}"), cell(score.smape, "{:.2f}"),
                         cell(score.coverage, "{:.2f}"), cell(score.fit_seconds_mean, "{:.4f}"));
      out += report.served ? fmt::format("  {:>8}\n", cell(score.decision, "{:.3f}")) : "\n";
    }
    out += fmt::format("\nselected: {}\nwhy:      {}\n", s.model, s.reason);
    for (const std::string& note : report.notes) out += "note:     " + note + "\n";
    return out;
  }
  ordered_json json;
  json["horizon_seconds"] = report.horizon_seconds;
  json["origins"] = s.origins;
  ordered_json models = ordered_json::array();
  if (report.served) {
    json["served_window"] = {{"steps", report.served->steps},
                             {"quantile", report.served->quantile}};
  }
  for (const auto& score : s.scores) {
    models.push_back({{"model", score.model},
                      {"mase", number(score.mase)},
                      {"smape", number(score.smape)},
                      {"coverage", number(score.coverage)},
                      {"fit_seconds_mean", number(score.fit_seconds_mean)}});
    // Over seasonal naive's, as the ranking reads it (1 = as good).
    if (report.served) models.back()["decision_loss"] = number(score.decision);
  }
  json["models"] = models;
  json["selected"] = s.model;
  json["reason"] = s.reason;
  json["notes"] = report.notes;
  return json.dump(2) + "\n";
}

}  // namespace prescale::cli
