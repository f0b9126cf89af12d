// libFuzzer target for the WebSocket decoder: server bytes into the
// message layer (frame decoder, fragmentation, control frames, close,
// UTF-8, size limit).
//
// Input: byte 0 picks how the rest is cut into reads (1..256 bytes, or all
// at once); the rest is the byte stream from the server. Besides the
// sanitizers, one property is checked: cut into reads or fed whole, the
// stream gives the same events and the same bytes to send (RFC 6455
// framing does not depend on how TCP segments it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <variant>

#include "common/random.hpp"
#include "ws/codec/message_layer.hpp"
#include "ws/codec/send_queue.hpp"

namespace {

using dbr::ws::MessageLayer;

std::string transcript(std::span<const std::uint8_t> stream, std::size_t read_size) {
  dbr::SeededRandom random(1);
  dbr::ws::SendQueue out(1 << 20);
  MessageLayer layer(random, out, 64 * 1024);
  std::string t;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t n = read_size == 0 ? stream.size() - pos : std::min(read_size, stream.size() - pos);
    layer.receive(stream.subspan(pos, n));
    pos += n;
    while (auto e = layer.poll_event()) {
      if (auto* m = std::get_if<MessageLayer::MessageEvent>(&*e)) {
        t += m->text ? "T" : "B";
        t += std::to_string(m->payload.size()) + ":" + m->payload;
      } else if (auto* p = std::get_if<MessageLayer::PingEvent>(&*e)) {
        t += "I" + p->payload;
      } else if (auto* q = std::get_if<MessageLayer::PongEvent>(&*e)) {
        t += "O" + q->payload;
      } else if (auto* c = std::get_if<MessageLayer::ClosedEvent>(&*e)) {
        t += "C" + std::to_string(c->code) + c->reason;
      } else if (auto* f = std::get_if<MessageLayer::FailedEvent>(&*e)) {
        t += "F" + std::to_string(f->violation.close_code) + f->violation.reason;
      }
      t += '|';
    }
  }
  // What the client would send (pongs, close frames), masked with the same
  // seeded keys in both runs.
  while (!out.empty()) {
    auto front = out.front();
    t.append(reinterpret_cast<const char*>(front.data()), front.size());
    out.consume(front.size());
  }
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t read_size = data[0] == 0 ? 0 : std::size_t{data[0]};
  std::span<const std::uint8_t> stream(data + 1, size - 1);
  const std::string cut = transcript(stream, read_size);
  const std::string whole = transcript(stream, 0);
  if (cut != whole) std::abort();
  return 0;
}
