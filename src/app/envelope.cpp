#include "app/envelope.hpp"

namespace dbr::app {

nlohmann::json make_envelope(std::string_view subject, nlohmann::json body) {
  nlohmann::json envelope = nlohmann::json::object();
  envelope["body"] = std::move(body);
  envelope["subject"] = subject;
  envelope["source"] = kSourceController;
  envelope["destination"] = kDestinationBroadcast;
  return envelope;
}

nlohmann::json component_probe_payload() {
  return {{"body", "are you there?"}, {"subject", kHeartbeatSubject}, {"source", kSourceController}};
}

}  // namespace dbr::app
