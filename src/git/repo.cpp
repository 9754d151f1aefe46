#include "git/repo.hpp"

#include <git2.h>

#include <mutex>
#include <unordered_set>

#include "core/error.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"

namespace amlops::git {
namespace {

void init_libgit2() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // A container action runs as root on a checkout owned by the runner user: do not refuse it
    // ("dubious ownership"). We only read.
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
  });
}

[[noreturn]] void fail(const std::string& what) {
  const git_error* e = git_error_last();
  throw GitError(what + (e && e->message ? std::string(": ") + e->message : std::string()));
}

template <typename T, void (*Free)(T*)>
struct Handle {
  T* p = nullptr;
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (p) Free(p);
  }
  T** out() { return &p; }
  T* get() const { return p; }
};

using Reference = Handle<git_reference, git_reference_free>;
using Remote = Handle<git_remote, git_remote_free>;
using StatusList = Handle<git_status_list, git_status_list_free>;
using Index = Handle<git_index, git_index_free>;
using Revwalk = Handle<git_revwalk, git_revwalk_free>;
using Commit = Handle<git_commit, git_commit_free>;
using Tree = Handle<git_tree, git_tree_free>;
using Diff = Handle<git_diff, git_diff_free>;
using Blob = Handle<git_blob, git_blob_free>;

std::string oid_hex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, oid);
  return buf;
}

}  // namespace

Repo::Repo(git_repository* r) : repo_(r) {}
Repo::Repo(Repo&& o) noexcept : repo_(o.repo_) { o.repo_ = nullptr; }
Repo& Repo::operator=(Repo&& o) noexcept {
  std::swap(repo_, o.repo_);
  return *this;
}
Repo::~Repo() {
  if (repo_) git_repository_free(repo_);
}

std::optional<Repo> Repo::discover(const std::filesystem::path& start) {
  init_libgit2();
  git_buf buf = GIT_BUF_INIT;
  if (git_repository_discover(&buf, start.c_str(), 0, nullptr) != 0) {
    git_error_clear();
    return std::nullopt;
  }
  git_repository* r = nullptr;
  int rc = git_repository_open(&r, buf.ptr);
  git_buf_dispose(&buf);
  if (rc != 0) fail("cannot open the repository at " + start.string());
  return Repo(r);
}

Repo Repo::open(const std::filesystem::path& path) {
  init_libgit2();
  git_repository* r = nullptr;
  if (git_repository_open(&r, path.c_str()) != 0) fail("cannot open a git repository at " + path.string());
  return Repo(r);
}

std::filesystem::path Repo::workdir() const {
  const char* w = git_repository_workdir(repo_);
  return w ? std::filesystem::path(w) : std::filesystem::path(git_repository_path(repo_));
}

std::optional<std::string> Repo::head_commit() const {
  git_oid oid;
  if (git_reference_name_to_id(&oid, repo_, "HEAD") != 0) {
    git_error_clear();
    return std::nullopt;
  }
  return oid_hex(&oid);
}

std::optional<std::string> Repo::branch() const {
  if (git_repository_head_detached(repo_) == 1) return std::nullopt;
  Reference head;
  if (git_repository_head(head.out(), repo_) != 0) {
    // Unborn branch: read the symbolic target.
    git_error_clear();
    Reference sym;
    if (git_reference_lookup(sym.out(), repo_, "HEAD") != 0) {
      git_error_clear();
      return std::nullopt;
    }
    const char* target = git_reference_symbolic_target(sym.get());
    if (!target) return std::nullopt;
    std::string t = target;
    if (t.rfind("refs/heads/", 0) == 0) return t.substr(11);
    return t;
  }
  const char* shorthand = git_reference_shorthand(head.get());
  return shorthand ? std::optional<std::string>(shorthand) : std::nullopt;
}

std::string Repo::head_ref() const {
  if (git_repository_head_detached(repo_) == 1) return "HEAD";
  Reference head;
  if (git_repository_head(head.out(), repo_) != 0) {
    git_error_clear();
    auto b = branch();
    return b ? "refs/heads/" + *b : "HEAD";
  }
  return git_reference_name(head.get());
}

std::optional<std::string> Repo::remote_url(const std::string& name) const {
  Remote remote;
  if (git_remote_lookup(remote.out(), repo_, name.c_str()) != 0) {
    git_error_clear();
    return std::nullopt;
  }
  const char* url = git_remote_url(remote.get());
  if (!url) return std::nullopt;
  return strip_credentials(url);
}

bool Repo::dirty() const {
  git_status_options opts = GIT_STATUS_OPTIONS_INIT;
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  StatusList list;
  if (git_status_list_new(list.out(), repo_, &opts) != 0) fail("cannot read the status");
  return git_status_list_entrycount(list.get()) > 0;
}

std::vector<std::string> Repo::tracked_files() const {
  Index index;
  if (git_repository_index(index.out(), repo_) != 0) fail("cannot read the index");
  std::vector<std::string> out;
  size_t n = git_index_entrycount(index.get());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const git_index_entry* e = git_index_get_byindex(index.get(), i);
    if (e && GIT_INDEX_ENTRY_STAGE(e) == 0) out.emplace_back(e->path);
  }
  return out;
}

bool Repo::ignored(const std::string& relative_path) const {
  int ignored = 0;
  if (git_ignore_path_is_ignored(&ignored, repo_, relative_path.c_str()) != 0) {
    git_error_clear();
    return false;
  }
  return ignored == 1;
}

void Repo::walk_history(const std::function<void(const HistoryBlob&)>& visit, const HistoryOptions& opts) const {
  Revwalk walk;
  if (git_revwalk_new(walk.out(), repo_) != 0) fail("cannot walk the history");
  git_revwalk_sorting(walk.get(), GIT_SORT_TIME);
  if (git_revwalk_push_head(walk.get()) != 0) {
    git_error_clear();
    return;  // empty repository
  }
  std::unordered_set<std::string> seen;
  git_oid oid;
  size_t count = 0;
  while (git_revwalk_next(&oid, walk.get()) == 0) {
    if (opts.max_commits && count >= opts.max_commits) break;
    ++count;
    Commit commit;
    if (git_commit_lookup(commit.out(), repo_, &oid) != 0) fail("cannot read commit " + oid_hex(&oid));
    unsigned parents = git_commit_parentcount(commit.get());
    if (opts.skip_merges && parents > 1) continue;
    CommitInfo info;
    info.id = oid_hex(&oid);
    const char* summary = git_commit_summary(commit.get());
    info.summary = summary ? summary : "";
    const git_signature* author = git_commit_author(commit.get());
    info.author = author && author->name ? author->name : "";
    info.time = static_cast<int64_t>(git_commit_time(commit.get()));

    Tree tree, parent_tree;
    if (git_commit_tree(tree.out(), commit.get()) != 0) fail("cannot read the tree of " + info.id);
    if (parents > 0) {
      Commit parent;
      if (git_commit_parent(parent.out(), commit.get(), 0) == 0)
        git_commit_tree(parent_tree.out(), parent.get());
      else
        git_error_clear();
    }
    Diff diff;
    git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
    dopts.flags = GIT_DIFF_SKIP_BINARY_CHECK;
    if (git_diff_tree_to_tree(diff.out(), repo_, parent_tree.get(), tree.get(), &dopts) != 0)
      fail("cannot diff " + info.id);
    size_t nd = git_diff_num_deltas(diff.get());
    for (size_t i = 0; i < nd; ++i) {
      const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
      if (d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_MODIFIED && d->status != GIT_DELTA_RENAMED &&
          d->status != GIT_DELTA_COPIED && d->status != GIT_DELTA_TYPECHANGE)
        continue;
      if (d->new_file.mode == GIT_FILEMODE_COMMIT) continue;  // submodule
      std::string blob_id = oid_hex(&d->new_file.id);
      if (!seen.insert(blob_id).second) continue;
      git_oid blob_oid = d->new_file.id;
      git_repository* repo = repo_;
      HistoryBlob hb{&info, d->new_file.path, blob_id, static_cast<uint64_t>(d->new_file.size), [repo, blob_oid]() {
                       Blob blob;
                       if (git_blob_lookup(blob.out(), repo, &blob_oid) != 0) fail("cannot read a blob");
                       return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                                          static_cast<size_t>(git_blob_rawsize(blob.get())));
                     }};
      if (hb.size == 0) {
        // Sizes are not always filled in by tree diffs: ask the object database.
        git_odb* odb = nullptr;
        if (git_repository_odb(&odb, repo_) == 0) {
          size_t len = 0;
          git_object_t type;
          if (git_odb_read_header(&len, &type, odb, &blob_oid) == 0) hb.size = len;
          git_odb_free(odb);
        }
        git_error_clear();
      }
      visit(hb);
    }
  }
}

std::string strip_credentials(const std::string& url) { return redact::url(url.substr(0, url.find('?'))); }

std::optional<std::string> repository_slug(const std::string& url) {
  std::string u = strip_credentials(url);
  // https://github.com/owner/name(.git), git@github.com:owner/name.git, https://dev.azure.com/org/proj/_git/name
  size_t start = u.find("://");
  std::string path;
  if (start != std::string::npos) {
    size_t slash = u.find('/', start + 3);
    if (slash == std::string::npos) return std::nullopt;
    path = u.substr(slash + 1);
  } else if (auto colon = u.find(':'); colon != std::string::npos) {
    path = u.substr(colon + 1);
  } else {
    return std::nullopt;
  }
  if (path.size() > 4 && path.substr(path.size() - 4) == ".git") path.resize(path.size() - 4);
  auto parts = str::split(path, '/');
  if (parts.size() >= 4 && parts[parts.size() - 2] == "_git") return parts[0] + "/" + parts[1] + "/" + parts.back();
  if (parts.size() == 2 && !parts[0].empty() && !parts[1].empty()) return path;
  return std::nullopt;
}

Provenance provenance(const Env& env, const std::filesystem::path& start, std::optional<std::string> run_url) {
  Provenance p;
  p.run_url = std::move(run_url);
  if (auto repo = Repo::discover(start)) {
    p.commit = repo->head_commit();
    std::string ref = repo->head_ref();
    if (ref != "HEAD") p.ref = ref;
    p.repository = repo->remote_url();
    try {
      p.dirty = repo->dirty();
    } catch (const GitError&) {
      p.dirty = false;
    }
  }
  // On CI the checkout is often detached and the remote may be missing: the host knows.
  if (!p.commit)
    p.commit = env.nonempty("GITHUB_SHA") ? env.nonempty("GITHUB_SHA") : env.nonempty("BUILD_SOURCEVERSION");
  if (!p.ref) p.ref = env.nonempty("GITHUB_REF") ? env.nonempty("GITHUB_REF") : env.nonempty("BUILD_SOURCEBRANCH");
  if (!p.repository) {
    if (auto repo = env.nonempty("GITHUB_REPOSITORY"))
      p.repository = env.get_or("GITHUB_SERVER_URL", "https://github.com") + "/" + *repo;
    else if (auto uri = env.nonempty("BUILD_REPOSITORY_URI"))
      p.repository = strip_credentials(*uri);
  }
  return p;
}

}  // namespace amlops::git
