// The registry of targets KEDA triggers carry: created at the first call,
// kept while asked for, dropped after the idle timeout, bounded per
// namespace and in all, refused by namespace, and re-read when the file
// changes. Times are given, not waited for.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "prescale/config/config.hpp"
#include "prescale/daemon/trigger_targets.hpp"

using prescale::daemon::TriggerKey;
using prescale::daemon::TriggerTargets;
using Kind = TriggerTargets::Answer::Kind;
using Metadata = std::map<std::string, std::string>;

namespace {

const std::string kCalendar = R"(calendars:
  nyse:
    timezone: America/New_York
    sessions:
      - {name: open, days: [mon, tue, wed, thu, fri], start: "09:30", end: "16:00"}
)";

prescale::config::Config central(const std::string& calendars = kCalendar) {
  return prescale::config::parse_config(calendars +
                                        "server:\n  keda:\n    enabled: true\n    selfService: "
                                        "{enabled: true}\ntargets:\n  - metric: shop.a.rps\n"
                                        "    query: up\n");
}

Metadata trigger(const std::string& metric, const std::string& lead = "5m") {
  return {{"metricName", metric}, {"targetValue", "10"}, {"query", "sum(up)"}, {"leadTime", lead}};
}

TriggerTargets::Limits limits(std::int64_t per_namespace, std::int64_t total) {
  TriggerTargets::Limits l;
  l.enabled = true;
  l.idle_timeout_seconds = 600;
  l.max_per_namespace = per_namespace;
  l.max_targets = total;
  return l;
}

}  // namespace

TEST_CASE("trigger targets: made once, kept while asked for, dropped when idle",
          "[daemon][trigger]") {
  TriggerTargets registry(limits(2, 10));
  const auto config = central();
  const TriggerKey key{"shop", "checkout", "rps"};
  CHECK_FALSE(registry.touch(key, trigger("rps"), 0).has_value());

  auto made = registry.ask(key, trigger("rps"), config, 1000);
  REQUIRE(made.kind == Kind::ok);
  CHECK(made.changed);
  CHECK(made.metric == "shop.checkout.rps");
  REQUIRE(registry.targets().size() == 1);
  CHECK(registry.targets()[0].trigger == "shop/checkout/rps");
  CHECK(registry.targets()[0].namespace_name == "shop");

  // The same metadata again: nothing changes, the last call moves on.
  CHECK(registry.ask(key, trigger("rps"), config, 1300).changed == false);
  CHECK(registry.touch(key, trigger("rps"), 1500) ==
        std::optional<std::string>("shop.checkout.rps"));
  CHECK(registry.expire(2000).empty());  // 500 s since the last call
  // New metadata replaces the target (an edited ScaledObject).
  CHECK_FALSE(registry.touch(key, trigger("rps", "10m"), 1600).has_value());
  auto edited = registry.ask(key, trigger("rps", "10m"), config, 1600);
  CHECK(edited.changed);
  CHECK(registry.targets().at(0).lead_time_seconds == 600);
  // The engine refused it: the previous target is back.
  registry.undo(key);
  CHECK(registry.targets().at(0).lead_time_seconds == 300);

  auto dropped = registry.expire(1500 + 601);
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0] == key);
  CHECK(registry.size() == 0);
}

TEST_CASE("trigger targets: the caps and the namespace list refuse, naming the key",
          "[daemon][trigger]") {
  const auto config = central();
  TriggerTargets registry(limits(2, 3));
  CHECK(registry.ask({"shop", "a", "m"}, trigger("m"), config, 0).kind == Kind::ok);
  CHECK(registry.ask({"shop", "b", "m"}, trigger("m"), config, 0).kind == Kind::ok);
  auto third = registry.ask({"shop", "c", "m"}, trigger("m"), config, 0);
  CHECK(third.kind == Kind::exhausted);
  CHECK(third.message.find("server.keda.selfService.maxPerNamespace") != std::string::npos);
  CHECK(third.message.find("'shop' has 2 targets") != std::string::npos);
  // Editing one of the two is no new target.
  CHECK(registry.ask({"shop", "b", "m"}, trigger("m", "9m"), config, 0).kind == Kind::ok);
  CHECK(registry.ask({"bank", "a", "m"}, trigger("m"), config, 0).kind == Kind::ok);
  auto fourth = registry.ask({"ledger", "a", "m"}, trigger("m"), config, 0);
  CHECK(fourth.kind == Kind::exhausted);
  CHECK(fourth.message.find("server.keda.selfService.maxTargets") != std::string::npos);
  CHECK(registry.size() == 3);
  // A bad key is a bad key, whatever the counts.
  auto bad = registry.ask({"shop", "c", "m"}, trigger("m", "5x"), config, 0);
  CHECK(bad.kind == Kind::invalid);
  CHECK(bad.message.rfind("trigger metadata 'leadTime': bad duration '5x'", 0) == 0);

  auto only_shop = limits(5, 5);
  only_shop.namespaces = {"shop"};
  TriggerTargets listed(only_shop);
  CHECK(listed.ask({"shop", "a", "m"}, trigger("m"), config, 0).kind == Kind::ok);
  auto denied = listed.ask({"kube-system", "a", "m"}, trigger("m"), config, 0);
  CHECK(denied.kind == Kind::denied);
  CHECK(denied.message.find("server.keda.selfService.namespaces: shop") != std::string::npos);
}

TEST_CASE("trigger targets: names are nobody else's; a new file re-reads them",
          "[daemon][trigger]") {
  const auto config = central();
  TriggerTargets registry(limits(5, 5));
  // shop / a / rps would be served as shop.a.rps, the file's target.
  auto clash = registry.ask({"shop", "a", "rps"}, trigger("rps"), config, 0);
  CHECK(clash.kind == Kind::invalid);
  CHECK(clash.message.find("served by the config's target 'shop.a.rps'") != std::string::npos);
  // Two triggers whose names join to the same text.
  REQUIRE(registry.ask({"shop", "x.y", "z"}, trigger("z"), config, 0).kind == Kind::ok);
  auto same = registry.ask({"shop", "x", "y.z"}, trigger("y.z"), config, 0);
  CHECK(same.kind == Kind::invalid);
  CHECK(same.message.find("already served for trigger shop/x.y/z") != std::string::npos);

  Metadata with_calendar = trigger("open");
  with_calendar["calendars"] = "nyse";
  REQUIRE(registry.ask({"shop", "cal", "open"}, with_calendar, config, 0).kind == Kind::ok);
  // The file drops the calendar: that target goes, the other stays.
  auto dropped = registry.revalidate(central(""));
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].first == TriggerKey{"shop", "cal", "open"});
  CHECK(dropped[0].second.find("unknown calendar 'nyse'") != std::string::npos);
  CHECK(registry.size() == 1);
}
