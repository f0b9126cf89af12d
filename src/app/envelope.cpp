#include "app/envelope.hpp"

#include "common/json_text.hpp"

namespace dbr::app {

std::string make_envelope(std::string_view subject_json, std::string_view body_json) {
  std::string envelope = R"({"body":)";
  envelope.append(body_json);
  envelope += R"(,"subject":)";
  envelope.append(subject_json);
  envelope += R"(,"source":)" + json_text::quote(kSourceController);
  envelope += R"(,"destination":)" + json_text::quote(kDestinationBroadcast) + "}";
  return envelope;
}

std::string component_probe_payload() {
  return R"({"body":"are you there?","subject":)" + json_text::quote(kHeartbeatSubject) + R"(,"source":)" +
         json_text::quote(kSourceController) + "}";
}

}  // namespace dbr::app
