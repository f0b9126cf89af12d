#include "ws/codec/send_queue.hpp"

#include <algorithm>

namespace dbr::ws {

bool SendQueue::push_data(std::string frame) {
  if (frame.size() > max_data_bytes_ - std::min(data_bytes_, max_data_bytes_)) return false;
  data_bytes_ += frame.size();
  queued_bytes_ += frame.size();
  frames_.push_back(Frame{Kind::Data, std::move(frame)});
  return true;
}

void SendQueue::insert_control(Frame frame) {
  // After the frame being written and after earlier control frames, so
  // control frames keep their own order.
  std::size_t i = first_unstarted();
  while (i < frames_.size() && frames_[i].kind != Kind::Data) ++i;
  queued_bytes_ += frame.bytes.size();
  frames_.insert(frames_.begin() + static_cast<std::ptrdiff_t>(i), std::move(frame));
}

void SendQueue::push_pong(std::string frame) {
  for (std::size_t i = first_unstarted(); i < frames_.size(); ++i) {
    if (frames_[i].kind != Kind::Pong) continue;
    queued_bytes_ = queued_bytes_ - frames_[i].bytes.size() + frame.size();
    frames_[i].bytes = std::move(frame);
    return;
  }
  insert_control(Frame{Kind::Pong, std::move(frame)});
}

void SendQueue::push_close(std::string frame, bool urgent) {
  if (urgent) {
    for (std::size_t i = frames_.size(); i-- > first_unstarted();) {
      if (frames_[i].kind != Kind::Data) continue;
      queued_bytes_ -= frames_[i].bytes.size();
      data_bytes_ -= frames_[i].bytes.size();
      frames_.erase(frames_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    insert_control(Frame{Kind::Close, std::move(frame)});
    return;
  }
  queued_bytes_ += frame.size();
  frames_.push_back(Frame{Kind::Close, std::move(frame)});
}

std::span<const std::uint8_t> SendQueue::front() const {
  if (frames_.empty()) return {};
  const std::string& bytes = frames_.front().bytes;
  return {reinterpret_cast<const std::uint8_t*>(bytes.data()) + written_, bytes.size() - written_};
}

void SendQueue::consume(std::size_t n) {
  while (n > 0 && !frames_.empty()) {
    Frame& f = frames_.front();
    const std::size_t left = f.bytes.size() - written_;
    const std::size_t take = n < left ? n : left;
    written_ += take;
    n -= take;
    queued_bytes_ -= take;
    if (f.kind == Kind::Data) data_bytes_ -= take;
    if (written_ == f.bytes.size()) {
      frames_.pop_front();
      written_ = 0;
      pinned_ = false;
    }
  }
}

}  // namespace dbr::ws
