// What a TLS connection costs the loop thread before the handshake: loading
// the trusted CAs. curl alone parses the whole system bundle for every
// connection; net::set_tls_verification loads it once per process and
// shares the store. Prints milliseconds; not a pass/fail test.
#include <openssl/ssl.h>

#include <chrono>
#include <cstdio>

#include "net/curl_multi.hpp"
#include "net/tls.hpp"

using namespace dbr;
using BenchClock = std::chrono::steady_clock;

namespace {
double ms_since(BenchClock::time_point start) {
  return std::chrono::duration<double, std::milli>(BenchClock::now() - start).count();
}
}  // namespace

int main() {
  net::ensure_curl_global_init();
  const net::TrustSources sources = net::TrustSources::system_plus("");
  std::printf("system CA bundle: %s\n", sources.system_file.empty() ? "(none)" : sources.system_file.c_str());

  // What curl does per connection without the shared store.
  constexpr int kRounds = 5;
  double per_connection_ms = 0;
  for (int i = 0; i < kRounds; ++i) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    const auto start = BenchClock::now();
    (void)SSL_CTX_load_verify_locations(ctx, sources.system_file.c_str(), nullptr);
    per_connection_ms += ms_since(start);
    SSL_CTX_free(ctx);
  }
  std::printf("load the bundle into a fresh SSL_CTX (curl's way, every connection): %8.2f ms\n",
              per_connection_ms / kRounds);

  auto start = BenchClock::now();
  const bool ok = net::preload_trust_store(sources);
  std::printf("shared store, first use (once per process):                       %8.2f ms%s\n", ms_since(start),
              ok ? "" : " (failed)");
  start = BenchClock::now();
  for (int i = 0; i < 1000; ++i) (void)net::preload_trust_store(sources);
  std::printf("shared store, later connections:                                  %8.4f ms\n", ms_since(start) / 1000);
  return 0;
}
