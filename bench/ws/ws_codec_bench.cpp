// Codec throughput: how fast the sans-IO message layer decodes server
// frames and encodes (masks) client frames, for several payload sizes.
// Prints MB/s of payload; not a pass/fail test.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "support/ws_frames.hpp"  // server_frame
#include "ws/codec/frame_encoder.hpp"
#include "ws/codec/message_layer.hpp"
#include "ws/codec/send_queue.hpp"

using namespace dbr;
using namespace dbr::ws;
using BenchClock = std::chrono::steady_clock;

namespace {

std::string payload_of(std::size_t n, bool text) {
  std::string p(n, 'a');
  for (std::size_t i = 0; i < n; ++i) p[i] = text ? static_cast<char>('a' + i % 26) : static_cast<char>(i * 131);
  return p;
}

// Total payload bytes processed per run, so small sizes run many messages.
constexpr std::size_t kBytesPerRun = 256u << 20;

double decode_mb_per_s(std::size_t size, bool text) {
  const std::string payload = payload_of(size, text);
  const std::string frame = test::server_frame(true, 0, static_cast<std::uint8_t>(text ? Opcode::Text : Opcode::Binary),
                                                payload);
  // A 4 MiB stream of back-to-back frames, fed in 64 KiB reads.
  std::string stream;
  while (stream.size() < (4u << 20)) stream += frame;
  const std::size_t messages_per_stream = stream.size() / frame.size();
  const std::size_t rounds = std::max<std::size_t>(1, kBytesPerRun / (messages_per_stream * std::max<std::size_t>(size, 1)));
  SeededRandom random(1);
  SendQueue out(1 << 20);
  MessageLayer layer(random, out, 2u << 20);
  std::size_t delivered = 0;
  const auto start = BenchClock::now();
  for (std::size_t r = 0; r < rounds; ++r) {
    std::span<const std::uint8_t> all(reinterpret_cast<const std::uint8_t*>(stream.data()), stream.size());
    for (std::size_t pos = 0; pos < all.size(); pos += 65536) {
      layer.receive(all.subspan(pos, std::min<std::size_t>(65536, all.size() - pos)));
      while (auto e = layer.poll_event()) {
        if (auto* m = std::get_if<MessageLayer::MessageEvent>(&*e)) delivered += m->payload.size();
      }
    }
  }
  const double seconds = std::chrono::duration<double>(BenchClock::now() - start).count();
  if (layer.state() != MessageLayer::State::Open) std::printf("unexpected failure\n");
  return static_cast<double>(delivered) / seconds / 1e6;
}

double encode_mb_per_s(std::size_t size, bool text) {
  const std::string payload = payload_of(size, text);
  const std::size_t messages = std::max<std::size_t>(1, kBytesPerRun / std::max<std::size_t>(size, 1));
  SeededRandom random(1);
  SendQueue out(64u << 20);
  MessageLayer layer(random, out, 2u << 20);
  std::size_t sent = 0;
  const auto start = BenchClock::now();
  for (std::size_t i = 0; i < messages; ++i) {
    auto r = text ? layer.send_text(payload)
                  : layer.send_binary({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
    if (r != MessageLayer::SendResult::Queued) {
      std::printf("send failed\n");
      break;
    }
    sent += size;
    // The socket takes everything at once.
    while (!out.empty()) out.consume(out.front().size());
  }
  const double seconds = std::chrono::duration<double>(BenchClock::now() - start).count();
  return static_cast<double>(sent) / seconds / 1e6;
}

}  // namespace

int main() {
  std::printf("ws codec throughput (MB/s of payload, one core)\n");
  std::printf("%10s  %14s  %14s  %14s  %14s\n", "payload", "decode text", "decode binary", "encode text",
              "encode binary");
  for (std::size_t size : {16u, 125u, 1024u, 16384u, 65536u, 1u << 20}) {
    std::printf("%10zu  %14.0f  %14.0f  %14.0f  %14.0f\n", size, decode_mb_per_s(size, true),
                decode_mb_per_s(size, false), encode_mb_per_s(size, true), encode_mb_per_s(size, false));
  }
  std::printf("(decode: server frames in 64 KiB reads, UTF-8 checked for text; encode: masking and framing,\n"
              " UTF-8 checked for text; the 1 MiB limit is maxMessageBytes' default)\n");
  return 0;
}
