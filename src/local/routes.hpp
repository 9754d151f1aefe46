// A route table: method + path pattern -> handler, matched on the decoded path segments.
// Pattern segments are literals (matched case-insensitively, as ARM does), `{name}` (one
// segment, captured) or a final `{name*}` (zero or more segments, captured as `rest`).
// Routes are tried in the order they were added. The first pattern that matches the path owns it:
// a route with that same pattern and the method (or "*") answers, else the path is known but the
// method is not allowed (405); later, broader patterns do not catch it.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/server.hpp"

namespace amlops::local {

struct RouteMatch {
  std::map<std::string, std::string> params;      // {name} -> segment
  std::vector<std::string> rest;                  // what {name*} matched
  const std::vector<std::string>* seg = nullptr;  // every segment of the path
  [[nodiscard]] const std::string& operator[](const std::string& name) const { return params.at(name); }
};

using RouteHandler = std::function<net::ServerResponse(const net::ServerRequest&, const RouteMatch&)>;

class RouteTable {
 public:
  // `method` is "GET", "POST", ... or "*" for any.
  RouteTable& add(std::string method, const std::string& pattern, RouteHandler handler);

  struct Found {
    const RouteHandler* handler = nullptr;  // null: no route for this method
    RouteMatch match;
    bool path_known = false;  // some route has this path (with another method when handler is null)
  };
  [[nodiscard]] Found find(const std::string& method, const std::vector<std::string>& seg) const;

  // Matches one pattern against segments (exposed for tests).
  static std::optional<RouteMatch> match(const std::string& pattern, const std::vector<std::string>& seg);

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> parts;  // the pattern split once, at add()
    RouteHandler handler;
  };
  static std::vector<std::string> split(const std::string& pattern);
  static std::optional<RouteMatch> match_parts(const std::string& pattern, const std::vector<std::string>& pat,
                                               const std::vector<std::string>& seg);
  std::vector<Route> routes_;
};

}  // namespace amlops::local
