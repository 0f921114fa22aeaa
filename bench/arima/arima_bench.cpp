// Fits ARIMA + Fourier (1d, 1w) on the last `train` samples before a holdout
// of `horizon` samples (ending `skip` rows before the end) of a NAB-style CSV (timestamp,value at a
// fixed step) and prints {"fit_seconds", "mase", ...} as one JSON line. MASE = holdout MAE /
// in-sample MAE of the daily seasonal naive forecast.
#include "prescale/calendar/timestamp.hpp"
#include "prescale/forecast/arima.hpp"
#include "prescale/forecast/series.hpp"

#include <sys/resource.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::int64_t parse_utc(const std::string& text) {
  const auto parsed = prescale::calendar::parse_timestamp(text, std::nullopt);
  return parsed ? static_cast<std::int64_t>(*parsed) : -1;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

int usage() {
  std::cerr << "usage: arima_bench CSV [--train N] [--horizon H] [--skip ROWS] [--step S] "
               "[--harmonics K1,K2] [--forecast-out FILE] [--window-out FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string csv = argv[1], forecast_out, window_out;
  std::size_t train = 8064, horizon = 288, skip = 0;
  std::int64_t step = 300;
  std::vector<int> harmonics;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--train")
      train = std::stoul(value);
    else if (flag == "--horizon")
      horizon = std::stoul(value);
    else if (flag == "--skip")
      skip = std::stoul(value);
    else if (flag == "--step")
      step = std::stoll(value);
    else if (flag == "--forecast-out")
      forecast_out = value;
    else if (flag == "--window-out")
      window_out = value;
    else if (flag == "--harmonics") {
      std::stringstream list(value);
      for (std::string item; std::getline(list, item, ',');) harmonics.push_back(std::stoi(item));
    } else
      return usage();
  }
  std::ifstream in(csv);
  if (!in) {
    std::cerr << "arima_bench: cannot read " << csv << "\n";
    return 1;
  }
  std::vector<std::int64_t> times;
  std::vector<double> values;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    if (comma == std::string::npos) continue;
    times.push_back(parse_utc(line.substr(0, comma)));
    values.push_back(std::stod(line.substr(comma + 1)));
  }
  // Regular grid from the first kept timestamp; absent samples become NaN.
  if (values.size() < train + horizon + skip) {
    std::cerr << "arima_bench: " << csv << " has " << values.size() << " rows, need "
              << train + horizon + skip << "\n";
    return 1;
  }
  values.resize(values.size() - skip);
  times.resize(times.size() - skip);
  const std::size_t first = values.size() - train - horizon;
  const std::int64_t t0 = times[first];
  std::vector<double> grid(train + horizon, prescale::forecast::kMissing);
  for (std::size_t i = first; i < values.size(); ++i) {
    const std::int64_t offset = times[i] - t0;
    if (offset % step != 0) continue;
    const std::size_t index = static_cast<std::size_t>(offset / step);
    if (index < grid.size()) grid[index] = values[i];
  }
  // The exact window (NA for gaps) for the R baseline to read.
  if (!window_out.empty()) {
    std::ofstream out(window_out);
    out << "value\n";
    for (double v : grid) {
      if (std::isfinite(v))
        out << v << "\n";
      else
        out << "NA\n";
    }
  }
  // Local time = UTC for these traces: slot of day and of week (Monday 00:00 = 0).
  prescale::forecast::SeasonLayout layout;
  const std::uint32_t day = static_cast<std::uint32_t>(86400 / step), week = 7 * day;
  layout.slots = {day, week};
  layout.positions.assign(2, std::vector<std::uint32_t>(grid.size()));
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const std::int64_t t = t0 + static_cast<std::int64_t>(i) * step;
    const std::int64_t days = t / 86400;
    const auto slot_of_day = static_cast<std::uint32_t>((t % 86400) / step);
    layout.positions[0][i] = slot_of_day;
    layout.positions[1][i] = static_cast<std::uint32_t>(((days + 3) % 7) * day + slot_of_day);
  }
  prescale::forecast::ArimaOptions options;
  options.step_seconds = step;
  options.harmonics = harmonics;
  const prescale::forecast::ArimaModel model(options);
  prescale::forecast::FitInput input;
  input.y = std::span<const double>(grid.data(), train);
  input.layout = &layout;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  auto result = model.fit(input);
  const double cpu = cpu_seconds() - cpu_start;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (result.status != prescale::forecast::FitStatus::ok) {
    std::cerr << "arima_bench: fit failed: " << result.message << "\n";
    return 1;
  }
  const auto forecast = result.fitted->forecast(horizon);
  double naive = 0, holdout = 0;
  std::size_t naive_count = 0, holdout_count = 0;
  for (std::size_t t = day; t < train; ++t)
    if (std::isfinite(grid[t]) && std::isfinite(grid[t - day])) {
      naive += std::abs(grid[t] - grid[t - day]);
      ++naive_count;
    }
  double covered = 0;
  for (std::size_t h = 0; h < forecast.size(); ++h) {
    const double actual = grid[train + h];
    if (!std::isfinite(actual)) continue;
    holdout += std::abs(actual - forecast.mean[h]);
    covered += std::abs(actual - forecast.mean[h]) <= 1.959963984540054 * forecast.sigma[h] ? 1 : 0;
    ++holdout_count;
  }
  const double mase = (holdout / holdout_count) / (naive / naive_count);
  if (!forecast_out.empty()) {
    std::ofstream out(forecast_out);
    out << "mean,sigma\n";
    for (std::size_t h = 0; h < forecast.size(); ++h)
      out << forecast.mean[h] << "," << forecast.sigma[h] << "\n";
  }
  const auto parameters = result.fitted->parameters();
  std::string k_list;
  for (std::size_t k = 0; k < layout.slots.size(); ++k) {
    int count = 0;
    for (const auto& [name, value] : parameters) {
      std::string suffix(1, '-');
      suffix += std::to_string(layout.slots[k]);
      if (name.size() > suffix.size() && name[0] == 'C' &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        ++count;
    }
    if (k > 0) k_list += ',';
    k_list += std::to_string(count);
  }
  std::printf(
      "{\"model\":\"%s\",\"fit_seconds\":%.4f,\"fit_cpu_seconds\":%.4f,\"mase\":%.4f,"
      "\"coverage95\":%.3f,\"harmonics\":[%s],\"message\":\"%s\"}\n",
      result.fitted->name().c_str(), seconds, cpu, mase, covered / holdout_count, k_list.c_str(),
      result.message.c_str());
  return 0;
}
