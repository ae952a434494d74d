// cp, export, commit: a container's files, through the image library's tree archives
// (resolved inside the container's root: symlink-safe, CVE-2018-15664).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "base/file_util.h"
#include "base/scope_guard.h"
#include "base/unique_fd.h"
#include "cli/docker/cli.h"
#include "engine/core/containers.h"
#include "engine/core/rootfs.h"
#include "engine/image/image_service.h"
#include "engine/image/tree_tar.h"
#include "engine/store/container_lock.h"
#include "runtime/container.h"

namespace md::cli {

using nlohmann::json;

namespace {

// The container's root as an open directory: a running container's /proc/<pid>/root
// (so its volumes and tmpfs mounts are seen, as Docker's cp does), else its overlay,
// mounted for the duration (unmounted by the returned guard's owner via `mounted`).
struct RootHandle {
  UniqueFd fd;
  bool running = false;
  bool mounted_here = false;
  std::string id;
};

Result<RootHandle> open_root(engine::Engine& e, const std::string& ref) {
  std::string id = TRY(e.containers().resolve(ref));
  auto c = TRY(engine::reconcile_container(e, id));
  RootHandle h;
  h.id = id;
  if ((c.state == store::ContainerState::kRunning || c.state == store::ContainerState::kPaused) && c.pid > 0) {
    h.fd = UniqueFd(::open(("/proc/" + std::to_string(c.pid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (h.fd.valid()) {
      h.running = true;
      return h;
    }
  }
  auto img = TRY(e.images().get(c.image));
  auto lower = TRY(engine::image_lower_dirs(e.paths(), img));
  TRY(engine::create_rootfs_dirs(e.paths(), id));
  h.mounted_here = TRY(engine::mount_rootfs(e.paths(), id, lower));
  h.fd = UniqueFd(::open(e.paths().merged(id).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!h.fd.valid()) return fail_errno("open rootfs of " + ref);
  return h;
}

void close_root(engine::Engine& e, RootHandle& h) {
  h.fd.reset();
  if (h.mounted_here) (void)engine::unmount_rootfs(e.paths(), h.id);
}

std::pair<std::string, std::string> split_container_path(const std::string& arg) {
  // "name:/path" — a local path containing ':' must be written as ./a:b (Docker's rule).
  if (arg.empty() || arg[0] == '/' || arg[0] == '.') return {"", arg};
  auto colon = arg.find(':');
  if (colon == std::string::npos) return {"", arg};
  return {arg.substr(0, colon), arg.substr(colon + 1)};
}

std::string base_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string dir_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

// A pipe-free way to move a tar between two tree operations: a temp file.
Result<UniqueFd> temp_file(const std::string& dir) {
  std::string tmpl = dir + "/.mdcp-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return fail_errno("create temporary file in " + dir);
  ::unlink(tmpl.c_str());
  return UniqueFd(fd);
}

// Extracts `tar_fd` into `dest` under `root_fd`, Docker's cp rules: an existing directory
// receives the archived item; a missing destination (whose parent exists) becomes the
// item, renamed.
Status place(int root_fd, const std::string& dest, int tar_fd, const std::string& src_base, bool dest_is_root_host,
             const image::CopyInOptions& opts) {
  ::lseek(tar_fd, 0, SEEK_SET);
  auto st = image::stat_path(root_fd, dest);
  if (st && S_ISDIR(st->mode)) return image::copy_in(root_fd, dest, tar_fd, opts);
  if (st && !S_ISDIR(st->mode)) {
    // Overwrite a file: extract next to it, then rename over it.
  } else if (dest.back() == '/') {
    return fail("destination directory " + dest + " must exist", ENOENT);
  }
  std::string parent = dir_name(dest);
  auto pst = image::stat_path(root_fd, parent + "/");
  if (!pst || !S_ISDIR(pst->mode)) return fail("destination directory " + parent + " does not exist", ENOENT);
  // Resolve the parent inside the root, make a private staging dir there, extract, rename.
  std::string staging = parent + (parent == "/" ? "" : "/") + ".mdcp-" + std::to_string(::getpid());
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = dest_is_root_host ? 0 : RESOLVE_IN_ROOT;
  int pfd = int(::syscall(SYS_openat2, root_fd, parent.c_str(), &how, sizeof how));
  if (pfd < 0) return fail_errno("open " + parent);
  UniqueFd parent_fd(pfd);
  std::string staging_name = base_name(staging);
  if (::mkdirat(pfd, staging_name.c_str(), 0700) != 0) return fail_errno("create " + staging);
  auto cleanup = ScopeGuard([&] {
    // Best effort: an empty staging dir (after the rename) is removed; on error the
    // partial copy is removed with it.
    std::string full = "/proc/self/fd/" + std::to_string(pfd) + "/" + staging_name;
    (void)remove_tree(full);
  });
  TRY(image::copy_in(root_fd, staging, tar_fd, opts));
  if (::renameat(pfd, (staging_name + "/" + src_base).c_str(), pfd, base_name(dest).c_str()) != 0)
    return fail_errno("rename into " + dest);
  return {};
}

}  // namespace

int cmd_cp(Invocation& inv) {
  FlagSet f("minidocker cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tminidocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
            {{"archive", 'a', FlagKind::kBool, "Archive mode (copy all uid/gid information)"},
             {"follow-link", 'L', FlagKind::kBool, "Always follow symbol link in SRC_PATH"},
             {"quiet", 'q', FlagKind::kBool, "Suppress progress output during copy"}});
  int rc = 0;
  if (!parse_or_exit(f, "cp", inv.args, &rc) || !require_args(f, "cp", 2, 2, &rc)) return rc;
  auto [src_c, src_p] = split_container_path(f.args()[0]);
  auto [dst_c, dst_p] = split_container_path(f.args()[1]);
  if (src_c.empty() == dst_c.empty())
    return std::fprintf(stderr, src_c.empty() ? "Error: must specify at least one container source\n"
                                              : "Error: copying between containers is not supported\n"), 1;
  auto e = inv.engine();
  if (!e) return report(e.error());
  std::string cref = src_c.empty() ? dst_c : src_c;
  auto root = open_root(**e, cref);
  if (!root) return std::fprintf(stderr, "Error response from daemon: %s\n", root.error().message.c_str()), 1;
  auto close = ScopeGuard([&] { close_root(**e, *root); });
  UniqueFd host_root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  image::CopyInOptions opts;
  opts.cross_mounts = root->running;
  if (!src_c.empty()) {
    // Container → host (or stdout).
    if (src_p.empty()) src_p = "/";
    if (dst_p == "-") {
      auto st = image::copy_out(root->fd.get(), src_p, 1);
      if (!st) return std::fprintf(stderr, "Error response from daemon: %s\n", st.error().message.c_str()), 1;
      return 0;
    }
    std::string dest = absolute_path(dst_p);
    auto tmp = temp_file(dir_name(dest) == "." ? "." : (is_directory(dest) ? dest : dir_name(dest)));
    if (!tmp) return report(tmp.error());
    auto st = image::copy_out(root->fd.get(), src_p, tmp->get());
    if (!st) return std::fprintf(stderr, "Error response from daemon: %s\n", st.error().message.c_str()), 1;
    image::CopyInOptions host_opts;
    host_opts.keep_existing_types = true;
    auto placed = place(host_root.get(), dest, tmp->get(), st->name, true, host_opts);
    if (!placed) return report(placed.error());
    return 0;
  }
  // Host (or stdin) → container.
  if (dst_p.empty()) dst_p = "/";
  if (src_p == "-") {
    auto st = image::copy_in(root->fd.get(), dst_p, 0, opts);
    if (!st) return std::fprintf(stderr, "Error response from daemon: %s\n", st.error().message.c_str()), 1;
    return 0;
  }
  std::string src = absolute_path(src_p);
  if (!path_exists(src)) return std::fprintf(stderr, "Error: lstat %s: no such file or directory\n", src.c_str()), 1;
  auto tmp = temp_file((*e)->paths().root);
  if (!tmp) return report(tmp.error());
  auto st = image::copy_out(host_root.get(), src, tmp->get());
  if (!st) return report(st.error());
  if (!f.boolean("archive")) opts.owner_uid = opts.owner_gid = 0;
  auto placed = place(root->fd.get(), dst_p, tmp->get(), st->name, false, opts);
  if (!placed) return std::fprintf(stderr, "Error response from daemon: %s\n", placed.error().message.c_str()), 1;
  return 0;
}

int cmd_export(Invocation& inv) {
  FlagSet f("minidocker export [OPTIONS] CONTAINER",
            {{"output", 'o', FlagKind::kValue, "Write to a file, instead of STDOUT"}});
  int rc = 0;
  if (!parse_or_exit(f, "export", inv.args, &rc) || !require_args(f, "export", 1, 1, &rc)) return rc;
  std::string output = f.value("output");
  if (output.empty() && ::isatty(1))
    return std::fprintf(stderr, "Error: cowardly refusing to save to a terminal. Use the -o flag or redirect\n"), 1;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto id = (*e)->containers().resolve(f.args()[0]);
  if (!id) return std::fprintf(stderr, "Error response from daemon: %s\n", id.error().message.c_str()), 1;
  // The overlay (not /proc/pid/root): export is the container's filesystem without its
  // volumes, as Docker's.
  RootHandle h;
  h.id = *id;
  auto c = (*e)->containers().get_by_id(*id);
  auto img = c ? (*e)->images().get(c->image) : Result<store::Image>(std::unexpected(c.error()));
  if (!img) return report(img.error());
  auto lower = engine::image_lower_dirs((*e)->paths(), *img);
  if (!lower) return report(lower.error());
  (void)engine::create_rootfs_dirs((*e)->paths(), *id);
  auto m = engine::mount_rootfs((*e)->paths(), *id, *lower);
  if (!m) return report(m.error());
  h.mounted_here = *m;
  auto close = ScopeGuard([&] { close_root(**e, h); });
  UniqueFd dir(::open((*e)->paths().merged(*id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string tmp = output.empty() ? "" : output + ".tmp-" + std::to_string(::getpid());
  UniqueFd out(output.empty() ? ::dup(1) : ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out.valid()) return std::fprintf(stderr, "Error: open %s: %s\n", output.c_str(), std::strerror(errno)), 1;
  auto st = image::write_tree_tar(dir.get(), out.get());
  if (!st) {
    if (!tmp.empty()) ::unlink(tmp.c_str());
    return report(st.error());
  }
  if (!tmp.empty() && ::rename(tmp.c_str(), output.c_str()) != 0) return report(Error{errno, "rename " + output});
  if (c) (*e)->emit_container(*c, "export");
  return 0;
}

int cmd_commit(Invocation& inv) {
  FlagSet f("minidocker commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
            {{"author", 'a', FlagKind::kValue, "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"},
             {"change", 'c', FlagKind::kList, "Apply Dockerfile instruction to the created image"},
             {"message", 'm', FlagKind::kValue, "Commit message"},
             {"pause", 'p', FlagKind::kBool, "Pause container during commit", "", "true"}});
  int rc = 0;
  if (!parse_or_exit(f, "commit", inv.args, &rc) || !require_args(f, "commit", 1, 2, &rc)) return rc;
  auto e = inv.engine();
  if (!e) return report(e.error());
  auto c = (*e)->containers().get(f.args()[0]);
  if (!c) return std::fprintf(stderr, "Error response from daemon: %s\n", c.error().message.c_str()), 1;
  auto fresh = engine::reconcile_container(**e, c->id);
  if (fresh) *c = *fresh;
  bool pause = (!f.given("pause") || f.boolean("pause")) && c->state == store::ContainerState::kRunning;
  if (pause) (void)engine::pause_container(**e, c->id);
  auto unpause = ScopeGuard([&] {
    if (pause) (void)engine::unpause_container(**e, c->id);
  });
  image::ImageService svc((*e)->paths().root, (*e)->db());
  image::CommitOptions o;
  o.upper_dir = (*e)->paths().upper(c->id);
  o.parent = c->image;
  json cfg = c->config;
  o.container_config = cfg;
  o.changes = f.list("change");
  o.container_id = c->id;
  o.comment = f.value("message");
  o.author = f.value("author");
  if (f.args().size() > 1) o.tag = f.args()[1];
  auto img = svc.commit(o);
  if (!img) return std::fprintf(stderr, "Error response from daemon: %s\n", img.error().message.c_str()), 1;
  (*e)->emit_container(*c, "commit");
  std::printf("%s\n", img->id.c_str());
  return 0;
}

}  // namespace md::cli
