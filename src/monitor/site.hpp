#pragma once
// "Same site?": whether a redirect stays on the probe's own site.
//
// A site is a host's registrable domain, the label just below its public
// suffix ("www.example.co.uk" -> "example.co.uk"), read from the Public
// Suffix List as Debian ships it: libpsl's psl_latest() takes the newer of
// the list compiled into libpsl and the `publicsuffix` package's file, so a
// stable update of either is used and the rule still works without the
// package (it is only Recommended). libcurl already links libpsl.
#include <string>
#include <string_view>

struct psl_ctx_st;

namespace dbr::monitor {

class PublicSuffixList {
 public:
  PublicSuffixList() = default;  // the list is read on first use only
  ~PublicSuffixList();
  PublicSuffixList(const PublicSuffixList&) = delete;
  PublicSuffixList& operator=(const PublicSuffixList&) = delete;

  // The registrable domain of a lower-case host name ("www.example.com" ->
  // "example.com"); empty for a public suffix itself ("co.uk", "github.io"),
  // or when no list can be read.
  std::string registrable_domain(const std::string& host) const;

 private:
  mutable psl_ctx_st* list_ = nullptr;
  mutable bool loaded_ = false;
};

// Host names compare case-insensitively and without a trailing dot.
std::string normalized_host(std::string_view host);

// True when `target_host` is `probe_host` itself, or both names share a
// registrable domain. An IP literal is the same site only as itself; so is
// a name with no registrable domain ("localhost", a public suffix).
bool same_site(std::string_view probe_host, std::string_view target_host, const PublicSuffixList& list);

}  // namespace dbr::monitor
