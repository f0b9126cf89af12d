#pragma once
// TLS verification for every curl handle the agent makes: peer and host name
// always verified, against the system CAs plus, when given, the PEM file
// caFile.
//
// The trusted certificates live in one X509_STORE per set of sources,
// loaded once per process and shared by every TLS connection (OpenSSL
// stores are reference-counted and safe to share between threads). Without
// it curl parses the whole system bundle for every connection: about 40 ms
// of CPU on the loop thread on a desktop x86, several times that on a
// Raspberry Pi, on every reconnect. The system CAs come from the hashed
// directory when the system has one (Debian's /etc/ssl/certs), looked up
// when a handshake needs them; the bundle file only without it.
#include <curl/curl.h>

#include <string>

namespace dbr::net {

struct TrustSources {
  std::string system_file;  // PEM bundle (curl's built-in CA file), may be empty; used without a hashed system_dir
  std::string system_dir;   // hashed CA directory (curl's built-in CA path), may be empty
  std::string ca_file;      // extra trusted CAs (config key caFile), may be empty

  // curl's built-in system CA file and directory, plus `ca_file`.
  static TrustSources system_plus(std::string ca_file);
};

// Sets verification options on `easy`: verify peer and host, trust exactly
// `sources`. `sources` must outlive the handle (keep it next to the handle):
// it is read when each TLS connection starts. A caFile that cannot be read
// fails that transfer with CURLE_SSL_CACERT_BADFILE (an unreadable system
// bundle just trusts nothing from it). curl tells trust sets apart by
// caFile when it reuses cached connections; the system sources are meant
// to be the same for every handle of a process (system_plus).
void set_tls_verification(CURL* easy, const TrustSources& sources);

// Loads (or finds) the store for `sources` now, so the first connection
// does not pay for it on the loop. False if caFile cannot be read.
bool preload_trust_store(const TrustSources& sources);

}  // namespace dbr::net
