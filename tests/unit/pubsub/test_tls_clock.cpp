// A TLS failure a wrong clock causes reads as a clock problem (net/curl_error):
// the WebSocket to the hub, the HTTPS probe and Auth0 all word their curl
// errors through curl_error_text.
#include <doctest/doctest.h>

#include <openssl/x509.h>

#include "net/curl_error.hpp"

using namespace dbr;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::sys_seconds kDeviceNow{std::chrono::sys_days{std::chrono::year{2026} / 12 / 6} + 10h + 46min};

// What curl puts in its error buffer for OpenSSL's verify result.
std::string curl_words(long verify_result) {
  return std::string("SSL certificate problem: ") + X509_verify_cert_error_string(verify_result);
}

}  // namespace

TEST_CASE("TLS: 'certificate is not yet valid' is the clock's doing, whatever the kernel says") {
  std::string words = net::tls_clock_words(curl_words(X509_V_ERR_CERT_NOT_YET_VALID), kDeviceNow, false);
  CHECK(words ==
        "the system clock looks wrong: the system time is 2026-12-06 10:46:00 UTC and the kernel says it is not "
        "synchronized (no NTP yet), and a certificate is only 'not yet valid' when the clock is behind; set the "
        "clock (NTP; see timedatectl status)");
  CHECK(net::tls_clock_words(curl_words(X509_V_ERR_CERT_NOT_YET_VALID), kDeviceNow, true)
            .find("(the kernel says it is synchronized)") != std::string::npos);
  CHECK(net::tls_clock_words(curl_words(X509_V_ERR_CERT_NOT_YET_VALID), kDeviceNow, std::nullopt)
            .find("(whether it is synchronized is unknown)") != std::string::npos);
}

TEST_CASE("TLS: 'expired' is the clock's doing only on an unsynchronized clock; other failures are not") {
  CHECK(net::tls_clock_words(curl_words(X509_V_ERR_CERT_HAS_EXPIRED), kDeviceNow, false)
            .find("an unsynchronized clock ahead of time makes a certificate look expired") != std::string::npos);
  CHECK(net::tls_clock_words(curl_words(X509_V_ERR_CERT_HAS_EXPIRED), kDeviceNow, true).empty());
  CHECK(net::tls_clock_words(curl_words(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT), kDeviceNow, false).empty());
  CHECK(net::tls_clock_words("Could not resolve host: hub.test", kDeviceNow, false).empty());
}

TEST_CASE("TLS: curl_error_text adds the clock words to a TLS error, and only to one") {
  const std::string not_yet = curl_words(X509_V_ERR_CERT_NOT_YET_VALID);
  std::string text = net::curl_error_text(CURLE_PEER_FAILED_VERIFICATION, not_yet.c_str());
  CHECK(text.find(not_yet + " (the system clock looks wrong: the system time is ") == 0);
  CHECK(net::classify_curl_error(CURLE_PEER_FAILED_VERIFICATION) == net::CurlErrorClass::Tls);
  // The same words from a non-TLS error (say, a proxy's text) change nothing.
  CHECK(net::curl_error_text(CURLE_COULDNT_CONNECT, not_yet.c_str()) == not_yet);
}
