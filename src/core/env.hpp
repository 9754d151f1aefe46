// Environment access through one seam, so tests and CI adapters can substitute a map.
#pragma once
#include <map>
#include <optional>
#include <string>

namespace amlops {

class Env {
 public:
  virtual ~Env() = default;
  [[nodiscard]] virtual std::optional<std::string> get(const std::string& name) const = 0;
  // Non-empty value or nullopt.
  [[nodiscard]] std::optional<std::string> nonempty(const std::string& name) const;
  [[nodiscard]] std::string get_or(const std::string& name, const std::string& fallback) const;
  [[nodiscard]] virtual std::map<std::string, std::string> all() const = 0;
};

// The process environment.
class ProcessEnv : public Env {
 public:
  [[nodiscard]] std::optional<std::string> get(const std::string& name) const override;
  [[nodiscard]] std::map<std::string, std::string> all() const override;
};

// A fixed map (tests).
class MapEnv : public Env {
 public:
  MapEnv() = default;
  explicit MapEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  [[nodiscard]] std::optional<std::string> get(const std::string& name) const override;
  [[nodiscard]] std::map<std::string, std::string> all() const override { return vars_; }
  void set(const std::string& k, const std::string& v) { vars_[k] = v; }

 private:
  std::map<std::string, std::string> vars_;
};

const Env& process_env();

}  // namespace amlops
