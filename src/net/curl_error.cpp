#include "net/curl_error.hpp"

#include "common/enum_names.hpp"

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

std::string curl_error_text(CURLcode rc, const char* error_buffer) {
  return error_buffer != nullptr && error_buffer[0] != '\0' ? std::string(error_buffer) : curl_easy_strerror(rc);
}

constexpr auto kCurlErrorClassNames = enum_names<CurlErrorClass>({
    {CurlErrorClass::Dns, "DNS"}, {CurlErrorClass::Tcp, "TCP"}, {CurlErrorClass::Tls, "TLS"},
    {CurlErrorClass::Timeout, "timeout"}, {CurlErrorClass::Other, "transfer"}});
std::string_view curl_error_class_name(CurlErrorClass c) { return kCurlErrorClassNames.name(c, "transfer"); }

}  // namespace dbr::net
