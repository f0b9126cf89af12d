#pragma once
// RFC 6455 frame vocabulary: opcodes, close codes, a decoded frame header and
// the protocol violation that ends a connection.
#include <cstdint>
#include <string>

namespace dbr::ws {

//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-------+-+-------------+-------------------------------+
//  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//  | |1|2|3|       |K|             |                               |
//  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//  |     Extended payload length continued, if payload len == 127  |
//  + - - - - - - - - - - - - - - - +-------------------------------+
//  |                               |Masking-key, if MASK set to 1  |
//  +-------------------------------+-------------------------------+
//  | Masking-key (continued)       |          Payload Data         |
//  +-------------------------------- - - - - - - - - - - - - - - - +
//                                  (RFC 6455 §5.2)
inline constexpr std::uint8_t kFinBit = 0x80;
inline constexpr std::uint8_t kRsvBits = 0x70;
inline constexpr std::uint8_t kOpcodeBits = 0x0f;
inline constexpr std::uint8_t kMaskBit = 0x80;
inline constexpr std::uint8_t kLengthBits = 0x7f;
inline constexpr std::uint8_t kLength16 = 126;
inline constexpr std::uint8_t kLength64 = 127;
// "All control frames MUST have a payload length of 125 bytes or less"
inline constexpr std::size_t kMaxControlPayload = 125;

enum class Opcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

// "Control frames are identified by opcodes where the most significant bit
// of the opcode is 1." (§5.5)
constexpr bool is_control(Opcode op) { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

// Close status codes (§7.4.1).
namespace close_code {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kNoStatus = 1005;  // never sent: "no status code was actually present"
inline constexpr std::uint16_t kAbnormal = 1006;  // never sent: closed without a Close frame
inline constexpr std::uint16_t kInvalidPayload = 1007;
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kMessageTooBig = 1009;
inline constexpr std::uint16_t kMandatoryExtension = 1010;
inline constexpr std::uint16_t kInternalError = 1011;
inline constexpr std::uint16_t kTlsHandshake = 1015;  // never sent
}  // namespace close_code

// Whether a code may appear in a Close frame on the wire (§7.4.1, §7.4.2):
// 1000-1003, 1007-1011 and the registry's later 1012-1014, plus 3000-4999.
bool is_sendable_close_code(std::uint16_t code);

struct FrameHeader {
  bool fin = false;
  Opcode opcode = Opcode::Continuation;
  std::uint64_t payload_length = 0;
};

// The peer broke a rule: the connection ends with this close code.
struct Violation {
  std::uint16_t close_code = close_code::kProtocolError;
  std::string reason;
};

}  // namespace dbr::ws
