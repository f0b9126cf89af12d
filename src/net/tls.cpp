#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "net/curl_multi.hpp"

namespace dbr::net {

namespace {

using Key = std::tuple<std::string, std::string, std::string>;

struct StoreFree {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};

std::mutex cache_mutex;
// One entry per distinct set of sources (in practice one or two); they live
// until the process exits. TLS contexts hold their own references.
std::map<Key, std::unique_ptr<X509_STORE, StoreFree>>& cache() {
  static std::map<Key, std::unique_ptr<X509_STORE, StoreFree>> stores;
  return stores;
}

// A directory of CAs named by subject hash ("1a2b3c4d.0", as
// update-ca-certificates and c_rehash make them).
bool hashed_directory(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= 10 && name[8] == '.' &&
        std::all_of(name.begin(), name.begin() + 8, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }) &&
        std::all_of(name.begin() + 9, name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return true;
  }
  return false;
}

X509_STORE* load_store(const TrustSources& s) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return nullptr;
  // The system CAs: from the hashed directory when there is one, which
  // OpenSSL searches when a handshake needs an issuer (keeping what it
  // found), instead of parsing the whole bundle into memory at once (about
  // 0.7 MB of heap for Debian's 140-odd CAs, held for the process's life).
  // Without such a directory, the bundle.
  if (!s.system_dir.empty() && hashed_directory(s.system_dir))
    (void)X509_STORE_load_path(store, s.system_dir.c_str());
  else if (!s.system_file.empty())
    (void)X509_STORE_load_file(store, s.system_file.c_str());
  ERR_clear_error();  // a missing system source only means fewer CAs
  if (!s.ca_file.empty() && X509_STORE_load_file(store, s.ca_file.c_str()) != 1) {
    ERR_clear_error();
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

// The shared store for `s`, loading it on first use; nullptr if caFile is
// unreadable (not cached, so a fixed file is picked up next time).
X509_STORE* shared_store(const TrustSources& s) {
  std::lock_guard lock(cache_mutex);
  Key key{s.system_file, s.system_dir, s.ca_file};
  auto it = cache().find(key);
  if (it != cache().end()) return it->second.get();
  X509_STORE* store = load_store(s);
  if (store != nullptr) cache().emplace(std::move(key), store);
  return store;
}

// Why a callback and not CURLOPT_CAINFO: CAINFO *replaces* curl's bundle
// (system CAs would then need the hashed CAPATH directory, which not every
// image has) and curl re-reads it for every connection. Here the SSL_CTX
// gets the shared store with both; curl was told to load nothing itself.
CURLcode use_shared_store(CURL*, void* ssl_ctx, void* userptr) {
  const auto* sources = static_cast<const TrustSources*>(userptr);
  X509_STORE* store = shared_store(*sources);
  if (store == nullptr) return CURLE_SSL_CACERT_BADFILE;
  SSL_CTX_set1_cert_store(static_cast<SSL_CTX*>(ssl_ctx), store);  // takes its own reference
  return CURLE_OK;
}

}  // namespace

TrustSources TrustSources::system_plus(std::string ca_file) {
  // curl's built-in defaults, read once from a scratch handle
  // (CURLINFO_CAINFO/CAPATH, libcurl >= 7.84).
  static const std::pair<std::string, std::string> defaults = [] {
    std::pair<std::string, std::string> d;
    ensure_curl_global_init();  // curl_easy_init would do it implicitly, not thread-safely
    CURL* easy = curl_easy_init();
    if (easy == nullptr) return d;
    char* file = nullptr;
    char* dir = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_CAINFO, &file) == CURLE_OK && file != nullptr) d.first = file;
    if (curl_easy_getinfo(easy, CURLINFO_CAPATH, &dir) == CURLE_OK && dir != nullptr) d.second = dir;
    curl_easy_cleanup(easy);
    return d;
  }();
  return TrustSources{defaults.first, defaults.second, std::move(ca_file)};
}

void set_tls_verification(CURL* easy, const TrustSources& sources) {
  (void)curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  (void)curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  // The callback supplies the shared store; curl loads no system CA itself.
  // CAINFO still names caFile: curl compares it when it considers reusing a
  // cached connection, so a connection verified under another caFile is
  // never reused. (curl then adds caFile's few certificates to the store
  // again, which changes nothing.) Its own CA cache stays off so that the
  // SSL_CTX keeps our store.
  (void)curl_easy_setopt(easy, CURLOPT_CAINFO, sources.ca_file.empty() ? nullptr : sources.ca_file.c_str());
  (void)curl_easy_setopt(easy, CURLOPT_CAPATH, static_cast<char*>(nullptr));
  (void)curl_easy_setopt(easy, CURLOPT_CA_CACHE_TIMEOUT, 0L);
  (void)curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &use_shared_store);
  (void)curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, const_cast<TrustSources*>(&sources));
}

bool preload_trust_store(const TrustSources& sources) { return shared_store(sources) != nullptr; }

}  // namespace dbr::net
