// The floor: a minimal single-threaded parse of the bench's numeric/categorical CSV into column
// vectors sized once (mmap the file, count its lines, split on ',' and '\n', fast_float for
// numbers, a per-column list of distinct strings with int codes for text). No quotes, no type
// inference, no missing values, no statistics. Needs fast_float's header (libfast-float-dev).
#include <fast_float/fast_float.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  size_t total = 0;
  double checksum = 0;
  for (int f = 1; f < argc; ++f) {
    const int fd = ::open(argv[f], O_RDONLY);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
      std::perror(argv[f]);
      return 1;
    }
    const auto size = static_cast<size_t>(st.st_size);
    const char* s = static_cast<const char*>(::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0));
    ::close(fd);
    if (s == MAP_FAILED) return 1;
    ::madvise(const_cast<char*>(s), size, MADV_SEQUENTIAL);
    const char* p = s;
    const char* end = s + size;
    size_t ncols = 1;
    while (p < end && *p != '\n') ncols += *p++ == ',';
    ++p;
    const size_t rows = static_cast<size_t>(std::count(p, end, '\n'));
    std::vector<std::vector<double>> num(ncols);
    std::vector<std::vector<int>> code(ncols);
    std::vector<std::vector<std::string_view>> dict(ncols);
    for (size_t c = 0; c < ncols; ++c) num[c].reserve(rows), code[c].reserve(rows);
    while (p < end) {
      for (size_t col = 0; p < end; ++col) {
        double v;
        auto r = fast_float::from_chars(p, end, v);
        if (r.ec == std::errc() && (r.ptr == end || *r.ptr == ',' || *r.ptr == '\n')) {
          num[col].push_back(v);
          p = r.ptr;
        } else {
          const char* b = p;
          while (p < end && *p != ',' && *p != '\n') ++p;
          const std::string_view t(b, static_cast<size_t>(p - b));
          auto& d = dict[col];
          const auto it = std::find(d.begin(), d.end(), t);
          code[col].push_back(static_cast<int>(it - d.begin()));
          if (it == d.end()) d.push_back(t);
        }
        if (p < end && *p++ == '\n') break;
      }
    }
    for (auto& c : num) {
      total += c.size();
      if (!c.empty()) checksum += c.back();
    }
    for (auto& c : code) total += c.size();
    ::munmap(const_cast<char*>(s), size);
  }
  std::printf("%zu values (checksum %g)\n", total, checksum);
}
