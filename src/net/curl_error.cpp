#include "net/curl_error.hpp"

#include <openssl/x509.h>

#include "common/enum_names.hpp"
#include "common/retry_after.hpp"
#include "common/clock_sync.hpp"

namespace dbr::net {

CurlErrorClass classify_curl_error(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return CurlErrorClass::Dns;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR: return CurlErrorClass::Tcp;
    case CURLE_OPERATION_TIMEDOUT: return CurlErrorClass::Timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED: return CurlErrorClass::Tls;
    default: return CurlErrorClass::Other;
  }
}

FailureKind failure_kind_of(CurlErrorClass c) {
  switch (c) {
    case CurlErrorClass::Dns: return FailureKind::Dns;
    case CurlErrorClass::Tcp: return FailureKind::Tcp;
    case CurlErrorClass::Tls: return FailureKind::Tls;
    case CurlErrorClass::Timeout: return FailureKind::Timeout;
    case CurlErrorClass::Other: return FailureKind::Io;
  }
  return FailureKind::Io;
}

std::string tls_clock_words(std::string_view curl_text, std::chrono::sys_seconds now,
                            std::optional<bool> synchronized) {
  // OpenSSL's own words, as curl quotes them ("SSL certificate problem: ...").
  const std::string_view not_yet_valid = X509_verify_cert_error_string(X509_V_ERR_CERT_NOT_YET_VALID);
  const std::string_view expired = X509_verify_cert_error_string(X509_V_ERR_CERT_HAS_EXPIRED);
  const bool behind = curl_text.find(not_yet_valid) != std::string_view::npos;
  const bool ahead = curl_text.find(expired) != std::string_view::npos && synchronized == false;
  if (!behind && !ahead) return {};
  std::string words = "the system clock looks wrong: the system time is " + utc_text(now);
  words += synchronized == false  ? " and the kernel says it is not synchronized (no NTP yet)"
           : synchronized == true ? " (the kernel says it is synchronized)"
                                  : " (whether it is synchronized is unknown)";
  words += behind ? ", and a certificate is only 'not yet valid' when the clock is behind"
                  : ", and an unsynchronized clock ahead of time makes a certificate look expired";
  return words + "; set the clock (NTP; see timedatectl status)";
}

std::string curl_error_text(CURLcode rc, const char* error_buffer) {
  std::string text =
      error_buffer != nullptr && error_buffer[0] != '\0' ? std::string(error_buffer) : curl_easy_strerror(rc);
  if (classify_curl_error(rc) != CurlErrorClass::Tls) return text;
  std::string clock = tls_clock_words(text, std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()),
                                      read_clock_synchronized());
  return clock.empty() ? text : text + " (" + clock + ")";
}

constexpr auto kCurlErrorClassNames = enum_names<CurlErrorClass>({
    {CurlErrorClass::Dns, "DNS"}, {CurlErrorClass::Tcp, "TCP"}, {CurlErrorClass::Tls, "TLS"},
    {CurlErrorClass::Timeout, "timeout"}, {CurlErrorClass::Other, "transfer"}});
std::string_view curl_error_class_name(CurlErrorClass c) { return kCurlErrorClassNames.name(c, "transfer"); }

}  // namespace dbr::net
