#include "ws/frame.hpp"

namespace dbr::ws {

bool is_sendable_close_code(std::uint16_t code) {
  // "1004 Reserved", "1005 ... MUST NOT be set as a status code in a Close
  // control frame by an endpoint", likewise 1006 and 1015; 0-999 "are not
  // used"; 1016-2999 are reserved for future revisions (§7.4.2).
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace dbr::ws
