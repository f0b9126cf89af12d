#include "unit/pubsub/fake_service.hpp"

#include <algorithm>

namespace dbr::pubsub::test {

using nlohmann::json;

namespace {

std::string query_value(std::string_view query, std::string_view key) {
  std::string needle = std::string(key) + "=";
  std::size_t pos = 0;
  while (pos < query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view part = query.substr(pos, end - pos);
    if (part.substr(0, needle.size()) == needle) {
      // Percent-decode.
      std::string out;
      std::string_view value = part.substr(needle.size());
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '%' && i + 2 < value.size()) {
          out += static_cast<char>(std::stoi(std::string(value.substr(i + 1, 2)), nullptr, 16));
          i += 2;
        } else {
          out += value[i];
        }
      }
      return out;
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace

ServiceReply FakeService::open_new(LinkId link, std::string_view subprotocol, TimePoint) {
  Session session;
  session.connection_id = "conn-" + std::to_string(next_connection_++);
  session.reliable = subprotocol == "json.reliable.webpubsub.azure.v1";
  if (session.reliable) session.token = "token/" + session.connection_id + "+secret=";
  session.link = link;
  ++sessions_created;
  json connected{{"type", "system"}, {"event", "connected"}, {"userId", "device-1"},
                 {"connectionId", session.connection_id}};
  if (session.reliable) connected["reconnectionToken"] = session.token;
  links_[link] = session.connection_id;
  sessions_[session.connection_id] = std::move(session);
  return {{connected.dump()}, std::nullopt};
}

ServiceReply FakeService::open_recovery(LinkId link, std::string_view query, TimePoint now) {
  std::string id = query_value(query, "awps_connection_id");
  std::string token = query_value(query, "awps_reconnection_token");
  auto it = sessions_.find(id);
  bool usable = it != sessions_.end() && !it->second.ended && it->second.reliable && it->second.token == token &&
                (it->second.link || now - it->second.detached_at <= session_keep);
  if (!usable) {
    ++recoveries_refused;
    // The emulator accepts the upgrade, then closes: "The connection could
    // not be recovered."
    return {{}, std::uint16_t{1008}};
  }
  Session& session = it->second;
  // "A recovery attempt replaces a transport that still looks attached."
  if (session.link) links_.erase(*session.link);
  session.link = link;
  links_[link] = id;
  ++recoveries_accepted;
  ServiceReply reply;
  for (const auto& [seq, frame] : session.unacked) reply.frames.push_back(frame);
  return reply;
}

FakeService::Session* FakeService::session_of(LinkId link) {
  auto it = links_.find(link);
  if (it == links_.end()) return nullptr;
  auto s = sessions_.find(it->second);
  if (s == sessions_.end() || s->second.ended) return nullptr;
  return &s->second;
}

std::string FakeService::ack(std::uint64_t ack_id, std::optional<std::string> error) {
  json frame{{"type", "ack"}, {"ackId", ack_id}, {"success", !error}};
  if (error) frame["error"] = {{"name", *error}, {"message", *error == "Duplicate"
                                                              ? "Message with ack-id: " + std::to_string(ack_id) +
                                                                    " has been processed"
                                                              : "fault injected"}};
  return frame.dump();
}

ServiceReply FakeService::receive(LinkId link, std::string_view text, TimePoint) {
  Session* session = session_of(link);
  if (!session) {
    violations.push_back("frame on a link with no session");
    return {};
  }
  json frame = json::parse(text, nullptr, false);
  if (frame.is_discarded() || !frame.is_object() || !frame.contains("type") || !frame["type"].is_string()) {
    violations.push_back("malformed frame: " + std::string(text));
    return {{}, std::uint16_t{1007}};
  }
  std::string type = frame["type"];
  ++frames_by_type[type];
  ServiceReply reply;
  auto check_ack_id = [&](std::uint64_t ack_id, const std::string& payload) {
    auto [it, inserted] = ack_id_payloads_.emplace(ack_id, payload);
    if (!inserted && it->second != payload)
      violations.push_back("ackId " + std::to_string(ack_id) + " reused for a different request");
  };
  // Why an acked request is not carried out: Duplicate for an ackId that
  // already succeeded, else the next scripted error; nullopt to carry it out.
  auto refusal = [&](std::uint64_t ack_id, std::vector<std::string>& errors) -> std::optional<std::string> {
    if (session->succeeded_ack_ids.count(ack_id)) return "Duplicate";
    if (errors.empty()) return std::nullopt;
    std::string error = errors.front();
    errors.erase(errors.begin());
    return error;
  };
  if (type == "joinGroup") {
    std::uint64_t ack_id = frame["ackId"];
    std::string group = frame["group"];
    check_ack_id(ack_id, "join " + group);
    if (auto error = refusal(ack_id, join_errors)) {
      reply.frames.push_back(ack(ack_id, error));
    } else {
      session->groups.insert(group);
      session->succeeded_ack_ids.insert(ack_id);
      reply.frames.push_back(ack(ack_id, std::nullopt));
    }
  } else if (type == "sendToGroup") {
    std::uint64_t ack_id = frame["ackId"];
    if (frame.value("noEcho", false) != true) violations.push_back("sendToGroup without noEcho");
    if (frame.value("dataType", "") != "json") violations.push_back("sendToGroup without dataType json");
    if (!session->groups.count(frame["group"].get<std::string>()))
      violations.push_back("sendToGroup before joining the group");
    check_ack_id(ack_id, "send " + frame["data"].dump());
    if (auto error = refusal(ack_id, send_errors)) {
      reply.frames.push_back(ack(ack_id, error));
    } else {
      session->succeeded_ack_ids.insert(ack_id);
      deliveries.push_back({session->connection_id, ack_id, frame["data"]});
      if (lose_acks > 0)
        --lose_acks;
      else
        reply.frames.push_back(ack(ack_id, std::nullopt));
    }
  } else if (type == "sequenceAck") {
    if (!session->reliable) violations.push_back("sequenceAck on the non-reliable protocol");
    std::uint64_t id = frame["sequenceId"];
    sequence_acks.emplace_back(id, session->connection_id);
    // "acking x frees every buffered message with id <= x"
    session->unacked.erase(session->unacked.begin(), session->unacked.upper_bound(id));
  } else if (type == "ping") {
    if (answer_pings) reply.frames.push_back(R"({"type":"pong"})");
  } else {
    violations.push_back("unexpected frame type " + type);
    return {{}, std::uint16_t{1007}};
  }
  return reply;
}

void FakeService::link_lost(LinkId link, TimePoint now) {
  auto it = links_.find(link);
  if (it == links_.end()) return;
  auto s = sessions_.find(it->second);
  links_.erase(it);
  if (s == sessions_.end()) return;
  Session& session = s->second;
  if (session.link != link) return;
  session.link.reset();
  session.detached_at = now;
  if (!session.reliable) session.ended = true;
}

void FakeService::link_closed(LinkId link, std::uint16_t code, TimePoint now) {
  auto it = links_.find(link);
  if (it == links_.end()) return;
  std::string id = it->second;
  link_lost(link, now);
  // "A clean close 1000 from the client ends the session."
  if (code == 1000) sessions_[id].ended = true;
}

std::string FakeService::make_message(Session& session, std::string_view group, const json& data) {
  json frame{{"type", "message"}, {"from", "group"},   {"group", group},
             {"fromUserId", "web"}, {"dataType", "json"}, {"data", data}};
  if (session.reliable) {
    std::uint64_t seq = session.next_sequence_id++;
    frame["sequenceId"] = seq;
    std::string text = frame.dump();
    session.unacked[seq] = text;
    return text;
  }
  return frame.dump();
}

std::vector<std::pair<LinkId, std::string>> FakeService::publish(std::string_view group, const json& data) {
  std::vector<std::pair<LinkId, std::string>> out;
  for (auto& [id, session] : sessions_) {
    if (session.ended || !session.groups.count(std::string(group))) continue;
    std::string frame = make_message(session, group, data);
    if (session.reliable && session.unacked.size() > replay_limit) {
      // "The reliable message buffer is full." The session cannot be recovered.
      session.ended = true;
      continue;
    }
    if (session.link) out.emplace_back(*session.link, frame);
  }
  return out;
}

void FakeService::forget_sessions() {
  for (auto& [id, session] : sessions_) session.ended = true;
}

std::optional<LinkId> FakeService::link_of(const std::string& connection_id) const {
  auto it = sessions_.find(connection_id);
  if (it == sessions_.end() || it->second.ended) return std::nullopt;
  return it->second.link;
}

std::size_t FakeService::members_of(std::string_view group) const {
  return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(), [&](const auto& item) {
    return !item.second.ended && item.second.groups.count(std::string(group));
  }));
}

}  // namespace dbr::pubsub::test
