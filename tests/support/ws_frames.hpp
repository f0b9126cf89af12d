#pragma once
// WebSocket frames for the codec's unit tests and benchmark: frames as a
// server would send them (never masked unless a test asks), a parser for
// what the client sent (masked frames), and a driver that feeds input whole
// and one byte at a time. No doctest here, so a benchmark can use it.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/codec/frame.hpp"
#include "ws/codec/frame_encoder.hpp"

namespace dbr::ws::test {

struct RawFrame {
  bool fin = true;
  std::uint8_t rsv = 0;      // the three RSV bits, 0-7
  std::uint8_t opcode = 1;   // raw, so tests can send unknown ones
  std::string payload;
  bool masked = false;
  // Force the 16-bit or 64-bit length form (non-minimal encodings), or a
  // raw 64-bit length value (top-bit tests) that does not match the payload.
  int length_form = 0;  // 0 minimal, 16, 64
  std::optional<std::uint64_t> declared_length;
};

std::string server_frame(const RawFrame& f);

inline std::string server_frame(bool fin, std::uint8_t rsv, std::uint8_t opcode, std::string payload,
                                bool masked = false, int length_form = 0,
                                std::optional<std::uint64_t> declared_length = std::nullopt) {
  RawFrame f;
  f.fin = fin;
  f.rsv = rsv;
  f.opcode = opcode;
  f.payload = std::move(payload);
  f.masked = masked;
  f.length_form = length_form;
  f.declared_length = declared_length;
  return server_frame(f);
}

inline std::string server_frame(const RawFrame& f) {
  std::string out;
  out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 0x0f)));
  const std::uint64_t len = f.declared_length ? *f.declared_length : f.payload.size();
  const std::uint8_t mask_bit = f.masked ? 0x80 : 0;
  if (f.length_form == 0 && len < 126) {
    out.push_back(static_cast<char>(mask_bit | len));
  } else if ((f.length_form == 0 && len <= 0xFFFF) || f.length_form == 16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xFF));
  }
  std::string payload = f.payload;
  if (f.masked) {
    const char key[4] = {0x11, 0x22, 0x33, 0x44};
    out.append(key, 4);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
  }
  out += payload;
  return out;
}

inline std::string text_frame(std::string_view payload, bool fin = true) {
  return server_frame(fin, 0, 1, std::string(payload));
}
inline std::string binary_frame(std::string_view payload, bool fin = true) {
  return server_frame(fin, 0, 2, std::string(payload));
}
inline std::string continuation(std::string_view payload, bool fin) {
  return server_frame(fin, 0, 0, std::string(payload));
}
inline std::string ping_frame(std::string_view payload) { return server_frame(true, 0, 9, std::string(payload)); }
inline std::string pong_frame(std::string_view payload) { return server_frame(true, 0, 10, std::string(payload)); }
inline std::string close_frame(std::uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p += reason;
  return server_frame(true, 0, 8, p);
}
inline std::string empty_close_frame() { return server_frame(true, 0, 8, ""); }

// A frame the client sent, unmasked.
struct ClientFrame {
  bool fin = false;
  std::uint8_t rsv = 0;
  std::uint8_t opcode = 0;
  bool masked = false;
  MaskKey key{};        // as on the wire (all zero when not masked)
  std::string payload;  // unmasked
  std::uint16_t close_code() const {
    return payload.size() >= 2 ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                            static_cast<std::uint8_t>(payload[1]))
                               : 0;
  }
  std::string close_reason() const { return payload.size() > 2 ? payload.substr(2) : std::string(); }
};

// Parses complete client frames from `bytes`; stops at an incomplete one.
inline std::vector<ClientFrame> parse_client_frames(std::string_view bytes, std::size_t* consumed = nullptr) {
  std::vector<ClientFrame> out;
  std::size_t pos = 0;
  while (bytes.size() - pos >= 2) {
    auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[pos + i]); };
    ClientFrame f;
    f.fin = (b(0) & 0x80) != 0;
    f.rsv = static_cast<std::uint8_t>((b(0) >> 4) & 7);
    f.opcode = b(0) & 0x0f;
    f.masked = (b(1) & 0x80) != 0;
    std::uint64_t len = b(1) & 0x7f;
    std::size_t head = 2;
    if (len == 126) {
      if (bytes.size() - pos < 4) break;
      len = (std::uint64_t{b(2)} << 8) | b(3);
      head = 4;
    } else if (len == 127) {
      if (bytes.size() - pos < 10) break;
      len = 0;
      for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | b(i);
      head = 10;
    }
    const std::size_t key_at = pos + head;
    if (f.masked) head += 4;
    if (bytes.size() - pos < head + len) break;
    if (f.masked)
      for (std::size_t i = 0; i < 4; ++i) f.key[i] = static_cast<std::uint8_t>(bytes[key_at + i]);
    f.payload = std::string(bytes.substr(pos + head, static_cast<std::size_t>(len)));
    if (f.masked)
      for (std::size_t i = 0; i < f.payload.size(); ++i)
        f.payload[i] = static_cast<char>(f.payload[i] ^ static_cast<char>(f.key[i % 4]));
    out.push_back(std::move(f));
    pos += head + static_cast<std::size_t>(len);
  }
  if (consumed) *consumed = pos;
  return out;
}

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Runs `feed` with `input` whole, then one byte at a time, using a fresh
// subject from `run` each time; returns both transcripts for comparison.
// `run(chunks)` must build a fresh subject, feed each chunk and return a
// transcript of everything observable.
inline std::pair<std::string, std::string> whole_and_bytewise(
    std::string_view input, const std::function<std::string(const std::vector<std::string_view>&)>& run) {
  std::vector<std::string_view> whole{input};
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  return {run(whole), run(bytes)};
}

}  // namespace dbr::ws::test
