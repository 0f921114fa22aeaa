// M4 Hourly in one process: every series of an M4 CSV forecast 48 steps
// ahead by select_and_fit with the options `prescale forecast --model auto
// --seasonality 1d,1w --horizon 48h --threads 1` uses, one JSON line per
// series ({id, model, mean, lower, upper, fit_cpu_seconds}); bench/m4/m4.py
// scores them. fit_cpu_seconds is the process CPU clock around select_and_fit
// and the forecast alone, the boundary R's system.time draws round a fit. The
// batch boundary leaves out what a process per series costs (start-up, CSV
// parsing, the calendar's season layout) and nothing else.
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prescale/forecast/model.hpp"
#include "prescale/forecast/selection.hpp"

namespace {

namespace fc = prescale::forecast;

struct M4Series {
  std::string id;
  std::vector<double> values;
};

std::string unquote(std::string cell) {
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"')
    cell = cell.substr(1, cell.size() - 2);
  return cell;
}

std::vector<M4Series> read_m4(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<M4Series> out;
  std::string line;
  std::getline(in, line);  // "V1","V2",...
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::string cell;
    M4Series series;
    std::getline(cells, cell, ',');
    series.id = unquote(cell);
    while (std::getline(cells, cell, ',')) {
      cell = unquote(cell);
      if (!cell.empty() && cell != "\r") series.values.push_back(std::stod(cell));
    }
    if (!series.id.empty()) out.push_back(std::move(series));
  }
  return out;
}

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

int usage() {
  std::cerr << "usage: prescale_bench_m4 Hourly-train.csv [--quantile Q] [--horizon H] "
               "[--series N] [--output FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string input = argv[1];
  std::string output = "-";
  double quantile = 0.975;
  std::size_t horizon = 48, limit = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--quantile")
      quantile = std::stod(value);
    else if (flag == "--horizon")
      horizon = std::stoul(value);
    else if (flag == "--series")
      limit = std::stoul(value);
    else if (flag == "--output")
      output = value;
    else
      return usage();
  }
  const std::vector<M4Series> all = read_m4(input);
  std::ofstream file;
  if (output != "-") file.open(output);
  std::ostream& out = output == "-" ? std::cout : file;
  fc::SelectionOptions options;
  options.model = "auto";
  options.horizon = horizon;
  options.quantile = quantile;
  options.threads = 1;
  for (std::size_t s = 0; s < all.size() && (limit == 0 || s < limit); ++s) {
    const M4Series& series = all[s];
    const fc::SeasonLayout layout =
        fc::SeasonLayout::modular({24, 168}, series.values.size() + horizon);
    fc::FitInput fit_input;
    fit_input.y = series.values;
    fit_input.layout = &layout;
    const double started = process_cpu_seconds();
    const fc::Selection selection = fc::select_and_fit(fit_input, options);
    nlohmann::json line{{"id", series.id}, {"model", selection.model}};
    if (!selection.fitted) {
      std::cerr << series.id << ": " << selection.reason << "\n";
      return 1;
    }
    const fc::Forecast forecast = selection.fitted->forecast(horizon);
    line["fit_cpu_seconds"] = process_cpu_seconds() - started;
    std::vector<double> lower, upper;
    for (std::size_t h = 0; h < forecast.size(); ++h) {
      lower.push_back(forecast.quantile(h, 1 - quantile));
      upper.push_back(forecast.quantile(h, quantile));
    }
    line["mean"] = forecast.mean;
    line["lower"] = lower;
    line["upper"] = upper;
    out << line.dump() << "\n";
  }
  return 0;
}
