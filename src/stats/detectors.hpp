// Concept-drift detectors over a stream, with river's default parameters and update rules
// (river/drift: DDM, EDDM, PageHinkley, ADWIN). After a drift flag the next update resets
// DDM, EDDM and Page-Hinkley; ADWIN shrinks its window instead.
#pragma once
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace amlops::stats {

class Detector {
 public:
  virtual ~Detector() = default;
  // Feeds one value (error detectors: 1 = error, 0 = correct). Returns drift_detected().
  virtual bool update(double x) = 0;
  [[nodiscard]] bool drift_detected() const { return drift_; }
  [[nodiscard]] bool warning_detected() const { return warning_; }
  [[nodiscard]] virtual std::string name() const = 0;

 protected:
  bool drift_ = false, warning_ = false;
};

class DDM : public Detector {
 public:
  explicit DDM(int warm_start = 30, double warning_threshold = 2.0, double drift_threshold = 3.0)
      : warm_start_(warm_start), warn_t_(warning_threshold), drift_t_(drift_threshold) {}
  bool update(double x) override;
  [[nodiscard]] std::string name() const override { return "ddm"; }

 private:
  void reset();
  int warm_start_;
  double warn_t_, drift_t_;
  int64_t n_ = 0;
  double p_ = 0;
  double p_min_ = 0, s_min_ = 0, ps_min_ = std::numeric_limits<double>::infinity();
};

class EDDM : public Detector {
 public:
  explicit EDDM(int warm_start = 30, double alpha = 0.95, double beta = 0.9)
      : warm_start_(warm_start), alpha_(alpha), beta_(beta) {}
  bool update(double x) override;
  [[nodiscard]] std::string name() const override { return "eddm"; }

 private:
  void reset();
  int warm_start_;
  double alpha_, beta_;
  int64_t n_ = 0, n_errors_ = 0, last_error_ = 0;
  double mean_ = 0, m2_ = 0;  // Welford over distances
  int64_t nd_ = 0;
  double m_max_ = -1;
};

class PageHinkley : public Detector {
 public:
  enum class Mode { up, down, both };
  explicit PageHinkley(int min_instances = 30, double delta = 0.005, double threshold = 50.0, double alpha = 1 - 0.0001,
                       Mode mode = Mode::both)
      : min_instances_(min_instances), delta_(delta), threshold_(threshold), alpha_(alpha), mode_(mode) {}
  bool update(double x) override;
  [[nodiscard]] std::string name() const override { return "page_hinkley"; }

 private:
  void reset();
  int min_instances_;
  double delta_, threshold_, alpha_;
  Mode mode_;
  int64_t n_ = 0;
  double mean_ = 0, s_inc_ = 0, s_dec_ = 0;
  double min_inc_ = std::numeric_limits<double>::infinity(), max_dec_ = -1;
};

class ADWIN : public Detector {
 public:
  explicit ADWIN(double delta = 0.002, int clock = 32, int max_buckets = 5, int min_window_length = 5,
                 int grace_period = 10)
      : delta_(delta), clock_(clock), max_buckets_(max_buckets), min_len_(min_window_length), grace_(grace_period) {
    rows_.emplace_back();
  }
  bool update(double x) override;
  [[nodiscard]] std::string name() const override { return "adwin"; }
  [[nodiscard]] double width() const { return width_; }
  [[nodiscard]] double estimation() const { return width_ > 0 ? total_ / width_ : 0.0; }

 private:
  struct Row {
    std::deque<double> total, variance;  // oldest first
  };
  void insert(double value, double variance);
  void compress();
  bool detect();
  double remove_oldest();
  bool cut(double n0, double n1, double u0, double u1) const;
  double delta_;
  int clock_, max_buckets_, min_len_, grace_;
  std::deque<Row> rows_;  // rows_[0] holds buckets of size 1 (newest)
  double total_ = 0, variance_ = 0, width_ = 0;
  int64_t tick_ = 0;
};

// Builds a detector from "name" or "name:key=value,..." (river parameter names): ddm, eddm,
// page_hinkley (or ph), adwin. Throws UsageError.
std::unique_ptr<Detector> make_detector(const std::string& spec);
std::vector<std::string> detector_names();

}  // namespace amlops::stats
