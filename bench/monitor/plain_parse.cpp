// The floor: a minimal single-threaded parse of a numeric/categorical CSV into column vectors
// (read the file, split on ',' and '\n', std::from_chars for numbers, std::string for text).
// No quotes, no type inference, no statistics.
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  size_t total = 0;
  for (int f = 1; f < argc; ++f) {
    std::ifstream in(argv[f], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string s = ss.str();
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end && *p != '\n') ++p;  // header
    ++p;
    std::vector<std::vector<double>> num(16);
    std::vector<std::vector<std::string>> txt(16);
    while (p < end) {
      for (size_t col = 0; p < end; ++col) {
        const char* b = p;
        while (p < end && *p != ',' && *p != '\n') ++p;
        double v;
        auto r = std::from_chars(b, p, v);
        if (r.ec == std::errc() && r.ptr == p)
          num[col % 16].push_back(v);
        else
          txt[col % 16].emplace_back(b, p);
        if (p < end && *p++ == '\n') break;
      }
    }
    for (auto& c : num) total += c.size();
    for (auto& c : txt) total += c.size();
  }
  std::printf("%zu values\n", total);
}
