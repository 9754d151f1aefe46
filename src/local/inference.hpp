// The local inference host of online deployments: the embedded Python script (inference_host.py,
// turned into a header at build time) and the HTTP call from amlops-local to one instance.
#pragma once
#include <map>
#include <string>
#include <string_view>

namespace amlops::local {

// The text of src/local/inference_host.py, as built into the binary.
std::string_view inference_host_script();

// One call to an instance on 127.0.0.1:port.
struct HostReply {
  enum class Failure { none, refused, broken, timeout } failure = Failure::none;
  long status = 0;
  std::string body;
  std::string error;  // libcurl's message when failure != none
};
HostReply call_host(int port, const std::string& method, const std::string& path, const std::string& body,
                    const std::map<std::string, std::string>& headers, long timeout_ms);

}  // namespace amlops::local
