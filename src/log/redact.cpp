#include "log/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace dbr::log {

namespace {

constexpr std::string_view kMask = "***";

// Names whose values are secret, matched case-insensitively.
constexpr std::array<std::string_view, 10> kSecretNames = {
    "access_token", "awps_reconnection_token", "reconnectionToken", "reconnection_token", "client_secret",
    "password",     "id_token",                "refresh_token",     "accesskey",          "authorization"};

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (lower(text[pos + i]) != lower(word[i])) return false;
  return true;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// End of a bare value (query string, connection string, header token).
bool ends_bare_value(char c) {
  return c == '&' || c == ';' || c == '"' || c == '\'' || c == ',' || c == '<' || c == '>' || c == ')' ||
         c == ']' || c == '}' || std::isspace(static_cast<unsigned char>(c));
}

std::size_t skip_spaces(std::string_view text, std::size_t pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  return pos;
}

// If a secret name starts at `pos` (and is a whole word), returns its length.
std::size_t secret_name_at(std::string_view text, std::size_t pos) {
  if (pos > 0 && is_name_char(text[pos - 1])) return 0;
  for (auto name : kSecretNames) {
    if (!iequals_at(text, pos, name)) continue;
    std::size_t end = pos + name.size();
    if (end < text.size() && is_name_char(text[end])) continue;
    return name.size();
  }
  return 0;
}

// End of a URL's authority ("scheme://authority/path?query#fragment"), or
// of the URL itself in running text.
bool ends_authority(char c) { return c == '/' || c == '?' || c == '#' || ends_bare_value(c); }

// "scheme://user:password@host" or "scheme://token@host" at `pos` (the
// "://"): appends the URL up to and including '@' with the password (or a
// lone token, as NATS takes one) masked, and returns the index after '@';
// returns `pos` when there is no userinfo.
std::size_t mask_userinfo(std::string_view text, std::size_t pos, std::string& out) {
  const std::size_t start = pos + 3;
  std::size_t end = start;
  while (end < text.size() && !ends_authority(text[end])) ++end;
  const std::size_t at = text.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return pos;
  const std::string_view userinfo = text.substr(start, at);
  const std::size_t colon = userinfo.find(':');
  out.append("://");
  if (colon != std::string_view::npos) {
    out.append(userinfo.substr(0, colon + 1));
  }
  out.append(kMask);
  out.push_back('@');
  return start + at + 1;
}

}  // namespace

std::string redact(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    // Credentials in a URL (RFC 3986 §3.2.1 userinfo; nats:// and
    // proxy URLs carry them).
    if (text.compare(i, 3, "://") == 0) {
      std::size_t next = mask_userinfo(text, i, out);
      if (next != i) {
        i = next;
        continue;
      }
    }
    // "Bearer <token>" wherever it appears (headers, error messages).
    if (iequals_at(text, i, "bearer ") && (i == 0 || !is_name_char(text[i - 1]))) {
      std::size_t v = skip_spaces(text, i + 7);
      std::size_t e = v;
      while (e < text.size() && !ends_bare_value(text[e])) ++e;
      if (e > v) {
        out.append(text.substr(i, v - i));
        out.append(kMask);
        i = e;
        continue;
      }
    }
    std::size_t name_len = secret_name_at(text, i);
    if (name_len == 0) {
      out.push_back(text[i++]);
      continue;
    }
    std::size_t after = i + name_len;
    std::size_t p = after;
    bool json_key = p < text.size() && text[p] == '"';
    if (json_key) ++p;  // "name": "value"
    p = skip_spaces(text, p);
    if (p >= text.size() || (text[p] != '=' && text[p] != ':')) {
      out.append(text.substr(i, after - i));
      i = after;
      continue;
    }
    ++p;
    p = skip_spaces(text, p);
    out.append(text.substr(i, p - i));
    if (p < text.size() && text[p] == '"') {
      // JSON string value: skip to the closing quote, honouring escapes.
      std::size_t e = p + 1;
      while (e < text.size() && text[e] != '"') e += (text[e] == '\\') ? 2u : 1u;
      out.push_back('"');
      out.append(kMask);
      if (e < text.size()) out.push_back('"');
      i = std::min(e + 1, text.size());
      continue;
    }
    if (iequals_at(text, i, "authorization")) {
      // A header value runs to the end of the line: "Basic x", "Bearer x", ...
      std::size_t e = p;
      while (e < text.size() && text[e] != '\r' && text[e] != '\n' && text[e] != '"') ++e;
      if (e > p) out.append(kMask);
      i = e;
      continue;
    }
    std::size_t e = p;
    while (e < text.size() && !ends_bare_value(text[e])) ++e;
    if (e > p) out.append(kMask);
    i = e;
  }
  return out;
}

}  // namespace dbr::log
