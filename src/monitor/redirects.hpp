#pragma once
// Which redirects the HTTP(S) probe follows (pure but for reading the
// Public Suffix List on first use).
//
// Upstream's agent followed every redirect to any host (urllib), so a
// captive portal's login page answering 200 counted as online. This agent
// follows a redirect only while it stays on the probe's own site (site.hpp)
// and a browser-less check can trust it: at most kMaxRedirects, never in a
// loop, never from https down to plain http (a portal on the path could
// answer that hop). A redirect to another site is an answer, a captive
// portal's, and ends the probe offline.
#include <string>
#include <string_view>
#include <vector>

#include "monitor/probe_url.hpp"
#include "monitor/site.hpp"

namespace dbr::monitor {

inline constexpr int kMaxRedirects = 3;

// RFC 9110 §15.4: for 301, 302, 303, 307 and 308 "the user agent MAY
// automatically redirect its request to the URI referenced by the Location
// field value"; the probe's GET stays a GET for all five.
bool is_followed_redirect(long status);

struct RedirectVerdict {
  enum class Kind {
    Final,   // not a redirect to follow: classify the response as it is
    Follow,  // GET `url` next
    Refuse,  // a redirect this probe will not follow: offline, `error` says why
  };
  Kind kind = Kind::Final;
  std::string url;      // Follow: the absolute URL to GET
  ProbeTarget target;   // Follow: its parts
  std::string error;    // Refuse: names hosts only, never a path or query
};

// One check's chain of redirects, starting at the probe URL.
class RedirectChain {
 public:
  RedirectChain(std::string_view probe_url, ProbeTarget probe, int max_redirects = kMaxRedirects);

  // After a response with `status` whose Location curl resolved to
  // `location` (absolute; empty without one).
  RedirectVerdict next(long status, std::string_view location);
  int followed() const { return followed_; }

 private:
  ProbeTarget probe_;
  int max_redirects_;
  int followed_ = 0;
  std::vector<std::string> visited_;  // normalized URLs fetched in this chain
  PublicSuffixList suffixes_;
};

// The URL as the loop check compares it: no fragment, lower-case host, no
// default port. Empty when curl cannot parse it.
std::string normalized_url(std::string_view url);

}  // namespace dbr::monitor
