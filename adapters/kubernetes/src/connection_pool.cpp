#include "connection_pool.hpp"

#include <sys/socket.h>

namespace prescale::kubernetes::detail {
namespace {
thread_local bool t_refusing = false;
}

ConnectionPool::ConnectionPool(int min_threads, int max_connections)
    : max_connections_(max_connections > 0 ? max_connections : 1) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < min_threads && i < max_connections_; ++i)
    threads_.emplace_back([this] { work(); });
  refuser_ = std::thread([this] { refuse_loop(); });
}

ConnectionPool::~ConnectionPool() {
  shutdown();
}

bool ConnectionPool::current_connection_refused() {
  return t_refusing;
}

void ConnectionPool::enqueue(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  if (open_ >= max_connections_) {
    ++refused_;
    refused_jobs_.push_back(std::move(job));
    lock.unlock();
    refuse_available_.notify_one();
    return;
  }
  ++open_;
  jobs_.push_back(std::move(job));
  if (idle_threads_ < static_cast<int>(jobs_.size()) &&
      static_cast<int>(threads_.size()) < max_connections_) {
    threads_.emplace_back([this] { work(); });
  }
  lock.unlock();
  work_available_.notify_one();
}

void ConnectionPool::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_threads_;
    work_available_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    --idle_threads_;
    if (jobs_.empty()) return;  // stopping and drained
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    slots_[std::this_thread::get_id()] = Slot{};
    lock.unlock();
    job();  // the whole connection: handshake, requests, close
    lock.lock();
    slots_.erase(std::this_thread::get_id());
    --open_;
  }
}

void ConnectionPool::refuse_loop() {
  t_refusing = true;
  std::unique_lock lock(mutex_);
  while (true) {
    refuse_available_.wait(lock, [this] { return stopping_ || !refused_jobs_.empty(); });
    if (refused_jobs_.empty()) return;
    auto job = std::move(refused_jobs_.front());
    refused_jobs_.pop_front();
    lock.unlock();
    job();  // the handshake callback sees t_refusing and fails it; httplib closes the socket
    lock.lock();
  }
}

void ConnectionPool::set_current_socket(int fd) {
  std::lock_guard lock(mutex_);
  if (auto found = slots_.find(std::this_thread::get_id()); found != slots_.end())
    found->second.fd = fd;
}

void ConnectionPool::set_current_in_request(bool in_request) {
  std::lock_guard lock(mutex_);
  if (auto found = slots_.find(std::this_thread::get_id()); found != slots_.end())
    found->second.in_request = in_request;
}

void ConnectionPool::close_connections(bool all) {
  std::lock_guard lock(mutex_);
  for (auto& [thread, slot] : slots_) {
    if (slot.fd >= 0 && (all || !slot.in_request)) ::shutdown(slot.fd, SHUT_RDWR);
  }
}

void ConnectionPool::shutdown() {
  std::vector<std::thread> threads;
  std::thread refuser;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    threads.swap(threads_);
    refuser.swap(refuser_);
  }
  work_available_.notify_all();
  refuse_available_.notify_all();
  for (auto& thread : threads) thread.join();
  if (refuser.joinable()) refuser.join();
}

int ConnectionPool::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

long long ConnectionPool::refused_connections() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace prescale::kubernetes::detail
