#include "git/repo.hpp"

#include <git2.h>

#include <mutex>
#include <queue>
#include <string_view>
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
    // Partial clones made by older git (or converted by `git fetch --filter`) name their promisor
    // remote in extensions.partialClone, which libgit2 refuses unless told the caller copes: we do,
    // by reading only the objects that are there (walk_history skips and counts the others).
    const char* extensions[] = {"partialclone"};
    git_libgit2_opts(GIT_OPT_SET_EXTENSIONS, extensions, size_t{1});
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
using Odb = Handle<git_odb, git_odb_free>;
using Config = Handle<git_config, git_config_free>;

std::string oid_hex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, oid);
  return buf;
}

std::string oid_key(const git_oid& oid) { return std::string(reinterpret_cast<const char*>(oid.id), GIT_OID_RAWSZ); }

// Parent ids as the commit object writes them. libgit2 1.7+ applies a shallow clone's grafts to
// git_commit_parentcount (a boundary commit then has none); the raw header always names them, so
// the walk tells a shallow boundary from a root commit with every libgit2 version.
std::vector<git_oid> raw_parents(const git_commit* c) {
  std::vector<git_oid> out;
  const char* header = git_commit_raw_header(c);
  std::string_view rest = header ? header : "";
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (line.rfind("author ", 0) == 0) break;  // parents come before the author
    if (line.rfind("parent ", 0) == 0) {
      git_oid oid;
      if (git_oid_fromstrn(&oid, line.data() + 7, line.size() - 7) == 0)
        out.push_back(oid);
      else
        git_error_clear();
    }
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
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

bool Repo::shallow() const { return git_repository_is_shallow(repo_) == 1; }

bool Repo::partial(std::string* filter) const {
  Config cfg;
  if (git_repository_config_snapshot(cfg.out(), repo_) != 0) {
    git_error_clear();
    return false;
  }
  struct Found {
    bool partial = false;
    std::string filter;
  } found;
  git_config_foreach_match(
      cfg.get(), R"(^remote\..*\.(promisor|partialclonefilter)$|^extensions\.partialclone$)",
      [](const git_config_entry* e, void* payload) {
        auto* f = static_cast<Found*>(payload);
        std::string_view name = e->name;
        int on = 0;
        if (name.size() > 9 && name.substr(name.size() - 9) == ".promisor") {
          if (git_config_parse_bool(&on, e->value) == 0 && on) f->partial = true;
          git_error_clear();
        } else if (name.rfind("extensions.", 0) == 0) {
          f->partial = true;
        } else if (e->value && *e->value) {
          f->partial = true;
          f->filter = e->value;
        }
        return 0;
      },
      &found);
  git_error_clear();
  if (filter) *filter = found.filter;
  return found.partial;
}

HistoryCoverage Repo::walk_history(const std::function<void(const HistoryBlob&)>& visit,
                                   const HistoryOptions& opts) const {
  HistoryCoverage cov;
  cov.shallow = shallow();
  cov.partial = partial(&cov.filter);
  git_oid head;
  if (git_reference_name_to_id(&head, repo_, "HEAD") != 0) {
    git_error_clear();
    return cov;  // empty repository
  }
  Odb odb;
  if (git_repository_odb(odb.out(), repo_) != 0) fail("cannot open the object database");
  // Only the local object database is asked: nothing here can fetch from a promisor remote.
  auto present = [&](const git_oid* id) { return git_odb_exists_ext(odb.get(), id, GIT_ODB_LOOKUP_NO_REFRESH) == 1; };

  // Newest commit first (as GIT_SORT_TIME); on equal times the one queued first, so a child (always
  // queued before its parents) comes before them. libgit2's own revwalk (1.5) stops at a shallow
  // clone's first missing parent, so the walk is done here.
  struct Pending {
    int64_t time;
    uint64_t seq;
    git_oid id;
  };
  auto older = [](const Pending& a, const Pending& b) { return a.time != b.time ? a.time < b.time : a.seq > b.seq; };
  std::priority_queue<Pending, std::vector<Pending>, decltype(older)> queue(older);
  std::unordered_set<std::string> queued;
  uint64_t seq = 0;
  auto enqueue = [&](const git_oid& id) {  // false: the clone does not have the commit
    if (queued.count(oid_key(id))) return true;
    if (!present(&id)) return false;
    Commit c;
    if (git_commit_lookup(c.out(), repo_, &id) != 0) fail("cannot read commit " + oid_hex(&id));
    queued.insert(oid_key(id));
    queue.push({static_cast<int64_t>(git_commit_time(c.get())), seq++, id});
    return true;
  };
  if (!enqueue(head)) fail("the HEAD commit " + oid_hex(&head) + " is not in the repository");

  std::unordered_set<std::string> seen;
  while (!queue.empty()) {
    Pending next = queue.top();
    queue.pop();
    if (opts.max_commits && cov.commits >= opts.max_commits) {
      cov.truncated = true;
      break;
    }
    ++cov.commits;
    Commit commit;
    if (git_commit_lookup(commit.out(), repo_, &next.id) != 0) fail("cannot read commit " + oid_hex(&next.id));
    std::vector<git_oid> parents = raw_parents(commit.get());
    bool first_parent = false, boundary = false;
    for (size_t i = 0; i < parents.size(); ++i) {
      bool have = enqueue(parents[i]);
      if (i == 0) first_parent = have;
      boundary |= !have;
    }
    if (boundary) ++cov.boundary_commits;
    if (opts.skip_merges && parents.size() > 1) continue;
    CommitInfo info;
    info.id = oid_hex(&next.id);
    const char* summary = git_commit_summary(commit.get());
    info.summary = summary ? summary : "";
    const git_signature* author = git_commit_author(commit.get());
    info.author = author && author->name ? author->name : "";
    info.time = next.time;

    // A filter such as tree:0 leaves trees out too: such a commit cannot be diffed.
    Tree tree, parent_tree;
    if (!present(git_commit_tree_id(commit.get()))) {
      ++cov.unreadable_commits;
      continue;
    }
    if (git_commit_tree(tree.out(), commit.get()) != 0) fail("cannot read the tree of " + info.id);
    if (first_parent) {
      Commit parent;
      if (git_commit_lookup(parent.out(), repo_, &parents[0]) != 0) fail("cannot read commit " + oid_hex(&parents[0]));
      if (!present(git_commit_tree_id(parent.get()))) {
        ++cov.unreadable_commits;
        continue;
      }
      if (git_commit_tree(parent_tree.out(), parent.get()) != 0)
        fail("cannot read the tree of " + oid_hex(&parents[0]));
    }
    Diff diff;
    git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
    dopts.flags = GIT_DIFF_SKIP_BINARY_CHECK;  // no blob is read while diffing trees
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
      bool have = present(&blob_oid);
      if (!have) ++cov.missing_blobs;
      HistoryBlob hb{
          &info, d->new_file.path, blob_id, static_cast<uint64_t>(d->new_file.size), have, [repo, blob_oid]() {
            Blob blob;
            if (git_blob_lookup(blob.out(), repo, &blob_oid) != 0) fail("cannot read blob " + oid_hex(&blob_oid));
            return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                               static_cast<size_t>(git_blob_rawsize(blob.get())));
          }};
      if (hb.size == 0 && have) {
        // Sizes are not filled in by tree diffs: ask the object database (the header only).
        size_t len = 0;
        git_object_t type;
        if (git_odb_read_header(&len, &type, odb.get(), &blob_oid) == 0) hb.size = len;
        git_error_clear();
      }
      visit(hb);
    }
  }
  return cov;
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
