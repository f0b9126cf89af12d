// Every client frame gets a fresh, unpredictable masking key (RFC 6455 §5.3:
// "When sending a frame, the client MUST pick a fresh masking key from the
// set of allowed 32-bit values. The masking key needs to be unpredictable";
// §10.3: keys "derived from a strong source of entropy"). CVE-2025-10148 was
// curl 8.13.0-8.15.0 using one mask for every frame of a connection; these
// tests would catch that in our codec.
//
// They use the source production uses, SystemRandom (getrandom(2), see
// agent.hpp), not a scripted one, and look only at the bytes on the wire.
//
// How many repeated keys real randomness allows. Among n uniform 32-bit
// keys the number of colliding pairs is close to Poisson with mean
// λ = n(n-1)/2 / 2^32; for n = 10 000 that is λ ≈ 0.0116, so "no two keys
// equal" would fail about 1.2 % of runs on a correct encoder. Instead the
// tests allow at most kMaxCollidingPairs = 2 colliding pairs: a correct
// encoder has 3 or more with probability ≈ λ³/6 ≈ 2.6e-7 per run. A
// reused key gives ~n²/2 pairs (5e7), a key drawn once per message or per
// connection at least thousands, and a key with only 16 random bits about
// 760, so all of them fail by orders of magnitude. Each of the 32 key bits
// must also be set in n/2 ± 3√n keys (6 standard deviations; a correct
// source fails one of the 32 with probability ≈ 6e-8), which catches
// constant bits a collision count could miss (a key with 24 random bits
// gives only ≈3 colliding pairs).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "ws/codec/codec.hpp"
#include "ws/codec/frame_encoder.hpp"
#include "support/ws_frames.hpp"

using namespace dbr;
using namespace dbr::ws;
using namespace dbr::ws::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxCollidingPairs = 2;

std::uint32_t key_value(const MaskKey& k) {
  return (std::uint32_t{k[0]} << 24) | (std::uint32_t{k[1]} << 16) | (std::uint32_t{k[2]} << 8) | k[3];
}

// The payload as sent, so unmasking is checked against the wire bytes and
// not against apply_mask (the code under test).
struct WireFrame {
  std::uint8_t opcode = 0;
  bool fin = false;
  bool masked = false;
  MaskKey key{};
  std::string masked_payload;
};

// An independent reading of client frames (RFC 6455 §5.2), keeping the
// masked bytes.
std::vector<WireFrame> read_wire(std::string_view bytes) {
  std::vector<WireFrame> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    REQUIRE(bytes.size() - pos >= 2);
    auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[pos + i]); };
    WireFrame f;
    f.fin = (b(0) & 0x80) != 0;
    f.opcode = b(0) & 0x0f;
    f.masked = (b(1) & 0x80) != 0;
    std::uint64_t len = b(1) & 0x7f;
    std::size_t head = 2;
    if (len == 126) {
      len = (std::uint64_t{b(2)} << 8) | b(3);
      head = 4;
    } else if (len == 127) {
      len = 0;
      for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | b(i);
      head = 10;
    }
    if (f.masked) {
      for (std::size_t i = 0; i < 4; ++i) f.key[i] = b(head + i);
      head += 4;
    }
    REQUIRE(bytes.size() - pos >= head + len);
    f.masked_payload = std::string(bytes.substr(pos + head, static_cast<std::size_t>(len)));
    out.push_back(std::move(f));
    pos += head + static_cast<std::size_t>(len);
  }
  return out;
}

std::string unmask(const WireFrame& f) {
  std::string p = f.masked_payload;
  // "octet i of the transformed data is the XOR of octet i of the original
  // data with octet at index i modulo 4 of the masking key" (§5.3)
  for (std::size_t i = 0; i < p.size(); ++i)
    p[i] = static_cast<char>(static_cast<std::uint8_t>(p[i]) ^ f.key[i % 4]);
  return p;
}

struct KeyStats {
  std::size_t frames = 0;
  std::size_t colliding_pairs = 0;
  std::size_t same_as_previous = 0;
  std::array<std::size_t, 32> bit_set{};
};

KeyStats key_stats(const std::vector<WireFrame>& frames) {
  KeyStats s;
  s.frames = frames.size();
  std::map<std::uint32_t, std::size_t> seen;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::uint32_t k = key_value(frames[i].key);
    s.colliding_pairs += seen[k]++;  // pairs this key forms with earlier ones
    if (i > 0 && k == key_value(frames[i - 1].key)) ++s.same_as_previous;
    for (unsigned bit = 0; bit < 32; ++bit) s.bit_set[bit] += (k >> bit) & 1u;
  }
  return s;
}

void check_keys(const std::vector<WireFrame>& frames) {
  const KeyStats s = key_stats(frames);
  INFO("frames: " << s.frames << ", colliding pairs: " << s.colliding_pairs
                  << ", same key as the frame before: " << s.same_as_previous);
  CHECK(s.colliding_pairs <= kMaxCollidingPairs);
  const double n = static_cast<double>(s.frames);
  const double slack = 3 * std::sqrt(n);  // 6 standard deviations of Binomial(n, 1/2)
  std::string unbalanced;
  for (unsigned bit = 0; bit < 32; ++bit)
    if (std::abs(static_cast<double>(s.bit_set[bit]) - n / 2) > slack)
      unbalanced += " bit " + std::to_string(bit) + ": " + std::to_string(s.bit_set[bit]);
  INFO("key bits set in more or fewer than n/2 +- " << slack << " keys:" << unbalanced);
  CHECK(unbalanced.empty());
}

std::string payload_of(std::size_t size, std::size_t salt) {
  std::string p(size, '\0');
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<char>('a' + (i * 7 + salt) % 26);
  return p;
}

}  // namespace

TEST_CASE("encoder: 10 000 frames of every kind each carry their own key from SystemRandom") {
  SystemRandom random;
  struct Sent {
    Opcode opcode;
    bool fin;
    std::string payload;
  };
  std::vector<Sent> sent;
  std::string wire;
  auto send = [&](Opcode op, bool fin, std::string payload) {
    encode_frame(wire, op, fin, as_bytes(payload), random);
    sent.push_back({op, fin, std::move(payload)});
  };
  // Sizes on both sides of the 7-bit/16-bit/64-bit length forms and of the
  // 8-byte masking step. The two largest only every 20th round, to keep
  // the run to a few MB.
  const std::size_t small[] = {0, 1, 3, 4, 5, 7, 8, 9, 17, 125, 126, 127, 1000};
  const std::size_t large[] = {65535, 65536};
  std::size_t round = 0;
  while (sent.size() < 10'000) {
    const std::size_t size = round % 20 == 19 ? large[(round / 20) % 2] : small[round % std::size(small)];
    send(round % 2 ? Opcode::Binary : Opcode::Text, true, payload_of(size, round));
    // One message in three fragments (§5.4): first frame, continuation, last.
    send(Opcode::Text, false, payload_of(size % 200, round + 1));
    send(Opcode::Continuation, false, payload_of(3, round + 2));
    send(Opcode::Continuation, true, payload_of(size % 130, round + 3));
    send(Opcode::Ping, true, payload_of(round % 126, round + 4));
    send(Opcode::Pong, true, payload_of((round + 60) % 126, round + 5));
    send(Opcode::Close, true, close_payload(1000, payload_of(round % 124, round + 6)));
    ++round;
  }

  const std::vector<WireFrame> frames = read_wire(wire);
  REQUIRE(frames.size() == sent.size());
  std::size_t unmasked_ok = 0, masked_bit = 0, header_ok = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    masked_bit += frames[i].masked;
    header_ok += frames[i].opcode == static_cast<std::uint8_t>(sent[i].opcode) && frames[i].fin == sent[i].fin;
    unmasked_ok += unmask(frames[i]) == sent[i].payload;
  }
  // Counted, not checked per frame, so a failure prints one line.
  CHECK(masked_bit == frames.size());
  CHECK(header_ok == frames.size());
  CHECK(unmasked_ok == frames.size());
  check_keys(frames);
}

TEST_CASE("codec: every frame of one connection (messages, pongs, the Close) has its own key") {
  // Through the codec's public API, as the agent drives it, with the
  // production randomness: keys are drawn per frame, not per connection.
  SystemRandom random;
  CodecOptions options;
  options.host_header = "hub.test";
  options.target = "/";
  options.max_message_bytes = 1 << 20;
  options.send_queue_max_bytes = 1 << 20;
  Codec codec{random, options};
  TimePoint now = TimePoint(1000s);
  std::string sent;
  auto write = [&] {
    for (auto out = codec.pending_output(); !out.empty(); out = codec.pending_output()) {
      sent.append(reinterpret_cast<const char*>(out.data()), out.size());
      codec.consume_output(now, out.size());
    }
  };
  codec.start(now);
  codec.on_connected(now);
  write();
  const auto at = sent.find("Sec-WebSocket-Key: ");
  REQUIRE(at != std::string::npos);
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
      accept_for_key(sent.substr(at + 19, 24)) + "\r\n\r\n";
  codec.on_bytes(now, bytes_of(response));
  REQUIRE(codec.phase() == Codec::Phase::Open);
  const std::size_t frames_start = sent.size();

  std::vector<std::pair<std::uint8_t, std::string>> expected;  // opcode, payload
  const std::size_t sizes[] = {0, 1, 4, 9, 125, 126, 300, 4096};
  for (std::size_t i = 0; expected.size() < 9'999; ++i) {
    const std::string p = payload_of(sizes[i % std::size(sizes)], i);
    if (i % 4 == 3) {
      // A server ping: the codec answers with a pong of the same payload.
      const std::string ping = p.substr(0, 125);
      codec.on_bytes(now, bytes_of(ping_frame(ping)));
      expected.emplace_back(0xA, ping);
    } else if (i % 2) {
      REQUIRE(codec.send_binary(now, as_bytes(p)));
      expected.emplace_back(0x2, p);
    } else {
      REQUIRE(codec.send_text(now, p));
      expected.emplace_back(0x1, p);
    }
    write();
    while (codec.poll_event()) {
    }
    REQUIRE(codec.phase() == Codec::Phase::Open);
  }
  codec.close(now, 1000, "bye");
  write();
  expected.emplace_back(0x8, close_payload(1000, "bye"));

  const std::vector<WireFrame> frames = read_wire(std::string_view(sent).substr(frames_start));
  REQUIRE(frames.size() == expected.size());
  std::size_t masked_bit = 0, matches = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    masked_bit += frames[i].masked;
    matches += frames[i].fin && frames[i].opcode == expected[i].first && unmask(frames[i]) == expected[i].second;
  }
  CHECK(masked_bit == frames.size());
  CHECK(matches == frames.size());
  check_keys(frames);
}

TEST_CASE("SystemRandom holds no seed of its own: two instances, and a parent and its fork, draw different bytes") {
  // A generator seeded with a constant would repeat its stream in every
  // instance (and in every process); one seeded once and kept in process
  // memory would repeat it in a fork. SystemRandom draws from the kernel
  // (getrandom), and a forked child throws away the pool it inherited, so
  // neither happens. Each comparison is of 16 bytes: a false failure has
  // probability 2^-128.
  std::array<std::uint8_t, 16> a{}, b{};
  SystemRandom first, second;
  first.fill(a);
  second.fill(b);
  CHECK(a != b);

  SystemRandom shared;
  shared.fill(a);  // used before the fork, as the agent's would be
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::array<std::uint8_t, 16> c{};
    shared.fill(c);
    const bool ok = write(fds[1], c.data(), c.size()) == static_cast<ssize_t>(c.size());
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  std::array<std::uint8_t, 16> child{};
  std::size_t got = 0;
  while (got < child.size()) {
    const ssize_t n = read(fds[0], child.data() + got, child.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == child.size());
  shared.fill(b);
  CHECK(b != child);
}
