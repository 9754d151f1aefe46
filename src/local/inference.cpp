#include "local/inference.hpp"

#include <curl/curl.h>

#include <memory>

#include "local/inference_host_py.hpp"  // generated: kInferenceHostPy

namespace amlops::local {

std::string_view inference_host_script() { return kInferenceHostPy; }

namespace {

size_t append(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

}  // namespace

HostReply call_host(int port, const std::string& method, const std::string& path, const std::string& body,
                    const std::map<std::string, std::string>& headers, long timeout_ms) {
  HostReply r;
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    r.failure = HostReply::Failure::broken;
    r.error = "curl_easy_init failed";
    return r;
  }
  curl_slist* list = nullptr;
  for (auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  list = curl_slist_append(list, "Expect:");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> hold(list, curl_slist_free_all);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    r.error = curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT)
      r.failure = HostReply::Failure::timeout;
    else if (rc == CURLE_COULDNT_CONNECT)
      r.failure = HostReply::Failure::refused;
    else
      r.failure = HostReply::Failure::broken;
    return r;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

}  // namespace amlops::local
