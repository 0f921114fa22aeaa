#include "prescale/autoscaler/engine.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <set>
#include <stdexcept>
#include <thread>

#include "prescale/autoscaler/event_history.hpp"
#include "prescale/common/integer.hpp"

#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace prescale::autoscaler {

namespace {

/// Raises the calling thread's nice value by `increment` (Linux keeps one per
/// thread). Lowering one's own priority needs no privilege; failure is harmless.
void lower_this_thread_priority(int increment) {
#ifdef __linux__
  const auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0) (void)::setpriority(PRIO_PROCESS, tid, std::min(19, current + increment));
#else
  (void)increment;
#endif
}

/// A fixed number of threads draining one queue. Thread-safe.
class ThreadPool {
 public:
  /// nice_increment > 0 runs the workers at a lower CPU priority.
  explicit ThreadPool(std::size_t threads, int nice_increment = 0) {
    for (std::size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this, nice_increment] {
        if (nice_increment > 0) lower_this_thread_priority(nice_increment);
        work();
      });
    }
  }
  ~ThreadPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
      ++pending_;
    }
    cv_.notify_one();
  }
  void wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return pending_ == 0; });
  }
  /// Forgets the jobs not started yet (shutdown: nobody waits for their result).
  void drop_queued() {
    {
      std::lock_guard lock(mutex_);
      pending_ -= jobs_.size();
      jobs_.clear();
    }
    idle_.notify_all();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, queue drained
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
      {
        std::lock_guard lock(mutex_);
        --pending_;
      }
      idle_.notify_all();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_, idle_;
  std::deque<std::function<void()>> jobs_;
  std::size_t pending_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

struct Engine::Impl {
  struct Slot {
    std::shared_ptr<TargetWorker> worker;
    std::int64_t next_due = 0;  ///< grid time of its next tick
    bool busy = false;
  };

  const Clock& clock;
  SnapshotSink sink;
  EngineOptions options;
  std::unique_ptr<ThreadPool> tick_pool, fit_pool;

  mutable std::mutex mutex;           // guards slots, reports, snapshot
  std::map<std::string, Slot> slots;  // by metric name, the order of the config
  std::vector<std::string> order;
  // Targets KEDA triggers carry: their first fetch does not hold back readiness.
  std::set<std::string> from_triggers;
  std::map<std::string, TargetReport> reports;
  std::shared_ptr<const Snapshot> latest = std::make_shared<const Snapshot>();
  std::mutex publish_mutex;  // one sink call at a time
  // Ticks submitted to the pool and not finished (guarded by mutex). The
  // snapshot is rebuilt when a round's last tick ends, or when the last
  // rebuild is older than kPublishEvery, not after each target's tick: a
  // rebuild copies every target's metrics, so per-tick publishing costs
  // targets^2 copies per round (10^6 a minute at 1,000 targets).
  std::size_t ticks_in_flight = 0;
  std::uint64_t ticks_done = 0;  // guarded by mutex
  std::chrono::steady_clock::time_point last_publish{};
  static constexpr std::chrono::milliseconds kPublishEvery{250};
  std::mutex decisions_mutex;  // one decision sink call at a time
  Interrupt stop_signal;
  Interrupt wake;  // stop, a finished fit, or a reload: look at the slots again

  Impl(const Clock& c, SnapshotSink s, EngineOptions o)
      : clock(c), sink(std::move(s)), options(std::move(o)) {
    if (options.tick_threads > 0) {
      tick_pool = std::make_unique<ThreadPool>(options.tick_threads, options.tick_nice);
      fit_pool = std::make_unique<ThreadPool>(std::max<std::size_t>(1, options.fit_threads),
                                              options.fit_nice);
    }
  }

  static std::map<std::string, Slot> make_slots(const std::vector<config::TargetConfig>& targets,
                                                const calendar::CalendarSet& calendars,
                                                const SourceFactory& sources,
                                                const std::map<std::string, Slot>* keep,
                                                const EngineOptions& options) {
    std::map<std::string, Slot> made;
    for (const auto& target : targets) {
      if (keep) {
        if (auto it = keep->find(target.metric);
            it != keep->end() && it->second.worker->config().same_as(target)) {
          made[target.metric] = it->second;
          continue;
        }
      }
      // A failure names the target by its index and metric.
      const auto or_throw = [&](auto made, const std::string& what) {
        if (!made)
          throw std::invalid_argument(fmt::format("targets[{}] ({}): {}{}",
                                                  &target - targets.data(), target.metric, what,
                                                  made.error().message));
        return std::move(*made);
      };
      auto source = or_throw(sources(target), "");
      auto cals = or_throw(calendars_for(target, calendars), "");
      // The event history is fetched by the target's fit jobs, beside its
      // ticks: a Source of its own (a Source serves one thread at a time).
      std::unique_ptr<source::Source> event_source;
      if (cals && uses_event_history(target)) event_source = or_throw(sources(target), "");
      // What the target served before this process, read back by its first
      // fit (slo.servedQuery): a Source on that query, used by fit jobs only.
      std::unique_ptr<source::Source> served_source;
      if (target.slo && !target.slo->served_query.empty()) {
        auto served_target = target;
        served_target.query = target.slo->served_query;
        served_source = or_throw(sources(served_target), "slo.servedQuery: ");
      }
      Slot slot;
      slot.worker = std::make_shared<TargetWorker>(
          target, std::move(source), std::move(cals), options.log, options.slo_tuner,
          std::move(event_source), std::move(served_source));
      made[target.metric] = std::move(slot);
    }
    return made;
  }

  void publish() {
    std::shared_ptr<const Snapshot> snapshot;
    {
      std::lock_guard lock(mutex);
      auto next = std::make_shared<Snapshot>();
      next->generated_unix = static_cast<std::int64_t>(clock.now());
      bool ready = true;
      for (const auto& metric : order) {
        auto it = reports.find(metric);
        if (it == reports.end()) {
          if (from_triggers.count(metric) == 0) ready = false;
          continue;
        }
        next->targets.push_back(it->second.status);
        next->metrics.insert(next->metrics.end(), it->second.metrics.begin(),
                             it->second.metrics.end());
      }
      next->ready = ready && (from_triggers.size() < order.size() || options.ready_without_targets);
      latest = next;
      snapshot = next;
      last_publish = std::chrono::steady_clock::now();
    }
    if (sink) {
      std::lock_guard lock(publish_mutex);
      sink(snapshot);
    }
  }

  // A finished fit is adopted by a tick of its target right away, not a step later.
  void fit_done(const std::string& metric) {
    {
      std::lock_guard lock(mutex);
      auto it = slots.find(metric);
      if (it == slots.end()) return;
      it->second.next_due = 0;
    }
    wake.trigger();
  }

  /// pooled: the tick was counted in ticks_in_flight by Engine::tick (it
  /// then publishes when due); inline ticks leave publishing to Engine::tick.
  void run_tick(const std::string& metric, std::shared_ptr<TargetWorker> worker, std::int64_t now,
                bool pooled) {
    FitLauncher launch;
    if (fit_pool) {
      ThreadPool* pool = fit_pool.get();
      launch = [this, pool, metric, worker](std::function<void()> job) {
        // Shutting down, or the target is gone: nobody will read this fit.
        if (stop_signal.triggered() || worker->cancelled()) return;
        pool->submit([this, metric, job = std::move(job)] {
          job();
          fit_done(metric);
        });
      };
    }
    // A removed target's tick still queued does nothing (its worker is
    // cancelled): a reload from thousands of targets frees the threads at once.
    TargetReport report;
    bool ticked = false;
    if (!worker->cancelled()) {
      try {
        report = worker->tick(now, launch);
        ticked = !worker->cancelled();
      } catch (const std::exception& e) {
        // Out of memory, most likely: the target keeps its last report and
        // ticks again next step; the thread and the other targets go on.
        if (options.log)
          options.log(LogRecord{LogLevel::error, "tick failed; the last report stays", {}}
                          .with("target", metric)
                          .with("error", e.what()));
      }
    }
    std::vector<DecisionRecord> decisions = report.decisions;
    bool publish_now = false;
    {
      std::lock_guard lock(mutex);
      ++ticks_done;
      if (pooled) {
        if (ticks_in_flight > 0) --ticks_in_flight;
        publish_now = ticks_in_flight == 0 ||
                      std::chrono::steady_clock::now() - last_publish >= kPublishEvery;
      }
      auto it = slots.find(metric);
      // A reload may have replaced or removed the target meanwhile: drop the stale report.
      if (it != slots.end() && it->second.worker == worker) {
        it->second.busy = false;
        if (ticked) {
          reports[metric] = std::move(report);
        } else {
          decisions.clear();
        }
      } else {
        decisions.clear();
      }
    }
    if (options.decisions && !decisions.empty()) {
      std::lock_guard lock(decisions_mutex);
      options.decisions(decisions);
    }
    if (publish_now) publish();
  }
};

Engine::Engine(std::vector<config::TargetConfig> targets, calendar::CalendarSet calendars,
               SourceFactory sources, const Clock& clock, SnapshotSink sink, EngineOptions options)
    : impl_(std::make_unique<Impl>(clock, std::move(sink), std::move(options))) {
  impl_->slots = Impl::make_slots(targets, calendars, sources, nullptr, impl_->options);
  for (const auto& t : targets) {
    impl_->order.push_back(t.metric);
    if (!t.trigger.empty()) impl_->from_triggers.insert(t.metric);
  }
}

Engine::~Engine() {
  stop();
  // Pools join their threads (finishing queued jobs) before the slots go.
  impl_->tick_pool.reset();
  impl_->fit_pool.reset();
}

void Engine::stop() {
  impl_->stop_signal.trigger();
  impl_->wake.trigger();
  // Nothing queued is worth waiting for, and a fetch in flight may be stuck
  // on a hung server for its whole timeout: cancel them, so that shutdown
  // takes about a second whatever the load (a fit already running gives
  // up after the model it is fitting: TargetWorker::cancel).
  std::vector<std::shared_ptr<TargetWorker>> workers;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& [metric, slot] : impl_->slots) workers.push_back(slot.worker);
  }
  for (const auto& worker : workers) worker->cancel();
  if (impl_->tick_pool) impl_->tick_pool->drop_queued();
  if (impl_->fit_pool) impl_->fit_pool->drop_queued();
}

void Engine::tick() {
  const double now = impl_->clock.now();
  const auto now_unix = static_cast<std::int64_t>(std::floor(now));
  std::vector<std::pair<std::string, std::shared_ptr<TargetWorker>>> due;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& metric : impl_->order) {
      auto& slot = impl_->slots.at(metric);
      if (slot.busy || now_unix < slot.next_due) continue;
      slot.busy = true;
      const auto step = slot.worker->config().step_seconds;
      slot.next_due = floor_to(now_unix, step) + step;
      due.emplace_back(metric, slot.worker);
    }
    if (impl_->tick_pool) impl_->ticks_in_flight += due.size();
  }
  for (auto& [metric, worker] : due) {
    if (impl_->tick_pool) {
      Impl* impl = impl_.get();
      impl_->tick_pool->submit([impl, metric = metric, worker = worker, now_unix] {
        impl->run_tick(metric, worker, now_unix, true);
      });
    } else {
      impl_->run_tick(metric, worker, now_unix, false);
    }
  }
  if (!impl_->tick_pool && !due.empty()) impl_->publish();
}

void Engine::run() {
  while (!impl_->stop_signal.triggered()) {
    tick();
    std::int64_t next = 0;
    {
      std::lock_guard lock(impl_->mutex);
      for (const auto& [metric, slot] : impl_->slots)
        if (next == 0 || slot.next_due < next) next = slot.next_due;
    }
    // A busy target is retried shortly instead of at its next step.
    const double now = impl_->clock.now();
    double wake = next > 0 ? static_cast<double>(next) : now + 1;
    {
      std::lock_guard lock(impl_->mutex);
      for (const auto& [metric, slot] : impl_->slots)
        if (slot.busy) wake = std::min(wake, now + 1);
    }
    impl_->clock.sleep_until(wake, impl_->wake);
    impl_->wake.reset();
  }
  wait_idle();
}

Status Engine::reconfigure(std::vector<config::TargetConfig> targets,
                           calendar::CalendarSet calendars, SourceFactory sources,
                           bool rebuild_sources) {
  std::map<std::string, Impl::Slot> current;
  {
    std::lock_guard lock(impl_->mutex);
    current = impl_->slots;
  }
  std::map<std::string, Impl::Slot> made;
  try {
    made = Impl::make_slots(targets, calendars, sources, rebuild_sources ? nullptr : &current,
                            impl_->options);
  } catch (const std::invalid_argument& e) {
    return make_error(e.what());
  }
  std::vector<std::shared_ptr<TargetWorker>> dropped;  // removed or replaced
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [metric, slot] : made) {
      auto it = impl_->slots.find(metric);
      if (it != impl_->slots.end() && it->second.worker == slot.worker)
        slot = it->second;  // keep busy/next_due
    }
    for (const auto& [metric, slot] : impl_->slots) {
      auto it = made.find(metric);
      if (it == made.end() || it->second.worker != slot.worker) dropped.push_back(slot.worker);
    }
    impl_->slots = std::move(made);
    impl_->order.clear();
    impl_->from_triggers.clear();
    for (const auto& t : targets) {
      impl_->order.push_back(t.metric);
      if (!t.trigger.empty()) impl_->from_triggers.insert(t.metric);
    }
    for (auto it = impl_->reports.begin(); it != impl_->reports.end();) {
      auto slot = impl_->slots.find(it->first);
      const bool kept = slot != impl_->slots.end() && current.count(it->first) &&
                        current.at(it->first).worker == slot->second.worker;
      it = kept ? std::next(it) : impl_->reports.erase(it);
    }
  }
  // Their fetches in flight end now and their queued ticks do nothing, so
  // the targets that remain are not stuck behind them.
  for (const auto& worker : dropped) worker->cancel();
  impl_->publish();
  impl_->wake.trigger();  // new targets tick now
  return Status::ok();
}

std::optional<TargetReport> Engine::report(const std::string& metric) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->reports.find(metric);
  if (it == impl_->reports.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const Snapshot> Engine::snapshot() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->latest;
}

std::uint64_t Engine::ticks_done() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->ticks_done;
}

void Engine::wait_idle() {
  if (!impl_->tick_pool) return;
  // A tick may queue a fit and a fit's result is adopted by a later tick:
  // drain ticks, then fits, then ticks queued meanwhile.
  impl_->tick_pool->wait_idle();
  impl_->fit_pool->wait_idle();
  impl_->tick_pool->wait_idle();
}

}  // namespace prescale::autoscaler
