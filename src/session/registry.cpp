#include "session/registry.hpp"

#include <algorithm>

namespace ftpsd::session {

LiveSession::LiveSession(SessionFacts facts, asio::any_io_executor loop, std::function<void()> end,
                         const Clock& clock)
    : id_(facts.id),
      loop_(std::move(loop)),
      end_(std::move(end)),
      clock_(&clock),
      last_activity_(clock.now().time_since_epoch().count()),
      domain_(std::move(facts.domain)),
      client_(std::move(facts.client)),
      listener_(std::move(facts.listener)) {}

void LiveSession::set_user(std::string user) {
  std::lock_guard lock(mutex_);
  user_ = std::move(user);
}

void LiveSession::set_domain(std::string domain) {
  std::lock_guard lock(mutex_);
  domain_ = std::move(domain);
}

void LiveSession::set_tls(std::string description) {
  std::lock_guard lock(mutex_);
  tls_ = std::move(description);
}

void LiveSession::set_data_tls_reused(bool reused) {
  std::lock_guard lock(mutex_);
  data_tls_reused_ = reused;
}

void LiveSession::touch() noexcept {
  last_activity_.store(clock_->now().time_since_epoch().count(), std::memory_order_relaxed);
}

void LiveSession::transfer_started(std::string command, std::string path,
                                   std::shared_ptr<const TransferProgress> progress) {
  std::lock_guard lock(mutex_);
  transfer_ = TransferView{.command = std::move(command),
                           .path = std::move(path),
                           .bytes = 0,
                           .total = 0,
                           .started = std::chrono::system_clock::now()};
  progress_ = std::move(progress);
}

void LiveSession::transfer_ended() {
  std::lock_guard lock(mutex_);
  transfer_.reset();
  progress_.reset();
}

SessionView LiveSession::view() const {
  SessionView v;
  v.id = id_;
  v.started = started_;
  const auto last = Clock::duration(last_activity_.load(std::memory_order_relaxed));
  v.idle = std::max(Clock::duration::zero(), clock_->now().time_since_epoch() - last);
  std::shared_ptr<const TransferProgress> progress;
  {
    std::lock_guard lock(mutex_);
    progress = progress_;
    v.user = user_;
    v.domain = domain_;
    v.client = client_;
    v.listener = listener_;
    v.tls = tls_;
    v.data_tls_reused = data_tls_reused_;
    v.transfer = transfer_;
  }
  if (v.transfer && progress) {
    v.transfer->bytes = progress->bytes.load(std::memory_order_relaxed);
    v.transfer->total = progress->total.load(std::memory_order_relaxed);
  }
  return v;
}

void LiveSession::request_end() const {
  if (end_) asio::post(loop_, end_);
}

SessionRegistry::Registration& SessionRegistry::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::exchange(other.registry_, nullptr);
    entry_ = std::move(other.entry_);
  }
  return *this;
}

void SessionRegistry::Registration::reset() noexcept {
  if (registry_ != nullptr && entry_) registry_->remove(entry_->id());
  registry_ = nullptr;
  entry_.reset();
}

SessionRegistry::Registration SessionRegistry::add(SessionFacts facts, asio::any_io_executor loop,
                                                   std::function<void()> end, const Clock& clock) {
  const auto id = facts.id;
  auto entry = std::make_shared<LiveSession>(std::move(facts), std::move(loop), std::move(end), clock);
  {
    std::lock_guard lock(mutex_);
    sessions_[id] = entry;
  }
  return {*this, std::move(entry)};
}

void SessionRegistry::remove(std::uint64_t id) noexcept {
  std::shared_ptr<LiveSession> gone;  // released outside the lock
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(id); it != sessions_.end()) {
    gone = std::move(it->second);
    sessions_.erase(it);
  }
}

std::vector<SessionView> SessionRegistry::list() const {
  std::vector<std::shared_ptr<LiveSession>> entries;
  {
    std::lock_guard lock(mutex_);
    entries.reserve(sessions_.size());
    for (const auto& [id, entry] : sessions_) entries.push_back(entry);
  }
  // The views are built outside the registry's lock: a slow reader never holds up a login.
  std::vector<SessionView> views;
  views.reserve(entries.size());
  for (const auto& e : entries) views.push_back(e->view());
  std::sort(views.begin(), views.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return views;
}

std::optional<SessionView> SessionRegistry::find(std::uint64_t id) const {
  std::shared_ptr<LiveSession> entry;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return std::nullopt;
    entry = it->second;
  }
  return entry->view();
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

bool SessionRegistry::end(std::uint64_t id) const {
  std::shared_ptr<LiveSession> entry;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    entry = it->second;
  }
  entry->request_end();
  return true;
}

}  // namespace ftpsd::session
