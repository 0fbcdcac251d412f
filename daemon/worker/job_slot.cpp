#include "worker/job_slot.hpp"

#include "crash/job_record.hpp"

namespace factotum::worker {

bool JobSlot::begin(std::string_view jid, std::string_view jobtype, Clock::time_point started,
                    Clock::time_point deadline, Clock::time_point reservation_expiry,
                    const std::shared_ptr<const faktory::ClientOptions>& origin,
                    crash::JobRecord* record, metrics::JobtypeCells* cells) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  // assign() reuses the strings' buffers: no allocation per job once they have grown.
  job_.jid.assign(jid);
  job_.jobtype.assign(jobtype);
  job_.started = started;
  job_.deadline = deadline;
  job_.reservation_expiry = reservation_expiry;
  if (job_.origin != origin) job_.origin = origin;  // (no reference count traffic per job)
  job_.record = record;
  job_.record_word = 0;
  job_.cells = cells;
  cancelled_.store(false, std::memory_order_relaxed);
  state_ = State::running;
  return true;
}

bool JobSlot::end() {
  std::lock_guard lock(mutex_);
  const bool ours = state_ == State::running;
  state_ = State::idle;
  return ours;
}

std::optional<JobSlot::View> JobSlot::take_over_locked() {
  if (state_ != State::running) return std::nullopt;
  state_ = State::taken;
  cancelled_.store(true, std::memory_order_release);
  if (job_.record != nullptr) job_.record_word = job_.record->take_over();
  View view = job_;
  view.taken = true;
  return view;
}

std::optional<JobSlot::View> JobSlot::take_over_if_due(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ != State::running || now < job_.deadline) return std::nullopt;
  return take_over_locked();
}

std::optional<JobSlot::View> JobSlot::close_for_shutdown() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  return take_over_locked();
}

std::optional<JobSlot::View> JobSlot::current() const {
  std::lock_guard lock(mutex_);
  if (state_ == State::idle) return std::nullopt;
  View view = job_;
  view.taken = state_ == State::taken;
  return view;
}

bool JobSlot::busy_with_taken_job() const {
  std::lock_guard lock(mutex_);
  return state_ == State::taken;
}

}  // namespace factotum::worker
