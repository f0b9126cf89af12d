#include "pubsub/core/events.hpp"

#include <cstdio>

namespace dbr::pubsub {

FailureClass classify(const AttemptFailure& failure) {
  if (failure.kind != FailureKind::HttpStatus) return FailureClass::Transient;
  if (failure.http_status == 401 || failure.http_status == 403) return FailureClass::AuthRefused;
  if ((failure.http_status == 429 || failure.http_status == 503) && failure.retry_after)
    return FailureClass::RetryAfter;
  return FailureClass::Transient;
}

std::string describe(const AttemptFailure& failure) {
  std::string text;
  if (failure.kind == FailureKind::HttpStatus) {
    text = "HTTP " + std::to_string(failure.http_status);
    if (failure.retry_after) {
      char buf[48];
      std::snprintf(buf, sizeof buf, " (retry after %.0f s)", to_seconds(*failure.retry_after));
      text += buf;
    }
  } else {
    text = std::string(failure_kind_name(failure.kind));
  }
  if (!failure.detail.empty()) text += ": " + failure.detail;
  if (!failure.service_reason.empty()) text += "; the service says \"" + failure.service_reason + "\"";
  return text;
}

}  // namespace dbr::pubsub
