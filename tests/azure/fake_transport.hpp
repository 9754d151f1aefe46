// A net::Transport that answers from a function: a whole fake service in a test, no sockets.
#pragma once
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "net/http.hpp"

namespace amlops::test {

inline net::Response respond(int status, std::string body = {}, net::Headers headers = {}) {
  net::Response r;
  r.status = status;
  r.body = std::move(body);
  for (auto& [k, v] : headers) {
    std::string lk;
    for (char c : k) lk += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(lk, v);
  }
  return r;
}

inline std::string header_of(const net::Request& req, const std::string& name) {
  for (auto& [k, v] : req.headers) {
    if (k.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < k.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(k[i])) != std::tolower(static_cast<unsigned char>(name[i])))
        eq = false;
    if (eq) return v;
  }
  return {};
}

class FakeTransport : public net::Transport {
 public:
  std::function<net::Response(const net::Request&)> handler;
  net::AttemptResult perform(const net::Request& req, Duration, Duration, Duration) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(req);
    }
    net::AttemptResult r;
    r.response = handler(req);
    return r;
  }
  std::vector<net::Request> snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return requests;
  }
  std::mutex mu;
  std::vector<net::Request> requests;
};

}  // namespace amlops::test
