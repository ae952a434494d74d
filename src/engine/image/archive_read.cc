#include "engine/image/archive_read.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "engine/image/layer_path.h"
#include "engine/image/sha256.h"

namespace md::image {

using nlohmann::json;

namespace {

constexpr size_t kMaxJsonSize = 16 << 20;  // configs with long histories are ~100 KiB
constexpr int kMaxLinkHops = 40;
constexpr int kMaxIndexDepth = 4;

constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";

struct Member {
  std::string hex;  // sha256 of the content = its file name in the staging dir
  uint64_t size = 0;
  unsigned char magic[4] = {};
};

// Member names follow the layer rules (clean_layer_path), rooted at the archive.
Result<std::string> clean_member_name(std::string_view name) {
  auto clean = clean_layer_path(name);
  if (!clean) return fail("path escapes the archive", clean.error().errno_value);
  return clean;
}

// ---------------------------------------------------------------------------------------
// The streaming pass.

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

class Staging {
 public:
  Status open(const std::string& dir) {
    dir_ = dir;
    fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd_) return fail_errno("open staging directory " + dir);
    return {};
  }

  Status read_all(int archive_fd);

  // Follows member links by name; the result is a regular member.
  Result<const Member*> find(const std::string& name) const {
    std::string cur = name;
    for (int hop = 0; hop < kMaxLinkHops; ++hop) {
      if (auto it = members_.find(cur); it != members_.end()) return &it->second;
      auto link = links_.find(cur);
      if (link == links_.end()) return fail("archive member " + quote(name) + " not found", ENOENT);
      cur = link->second;
    }
    return fail("archive member " + quote(name) + ": too many levels of links", ELOOP);
  }
  bool has(const std::string& name) const {
    return members_.contains(name) || links_.contains(name);
  }

  std::string path_of(const Member& m) const { return join_path(dir_, m.hex); }

  Result<std::string> read(const std::string& name) const {
    const Member* m = TRY(find(name));
    if (m->size > kMaxJsonSize)
      return fail("archive member " + quote(name) + " is too large to be metadata", EFBIG);
    return TRY_CTX(read_file_at(fd_.get(), m->hex), "archive member " + quote(name));
  }

  Result<json> read_json(const std::string& name) const {
    std::string text = TRY(read(name));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return fail(name + ": invalid JSON", EINVAL);
    return j;
  }

 private:
  Status stage_member(struct archive* a, const std::string& name);

  std::string dir_;
  UniqueFd fd_;
  std::map<std::string, Member> members_;
  std::map<std::string, std::string> links_;  // member name → member name it points to
  unsigned counter_ = 0;
};

Status Staging::read_all(int archive_fd) {
  std::unique_ptr<struct archive, ArchiveFree> a(archive_read_new());
  if (!a) return fail("archive_read_new: out of memory", ENOMEM);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_format_tar(a.get());
  auto archive_error = [&](const std::string& what) {
    const char* msg = archive_error_string(a.get());
    return fail(what + ": " + (msg ? msg : "unknown libarchive error"), EINVAL);
  };
  if (archive_read_open_fd(a.get(), archive_fd, 1 << 17) != ARCHIVE_OK)
    return archive_error("read image archive");
  for (;;) {
    struct archive_entry* e;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return archive_error("read image archive");
    const char* raw = archive_entry_pathname(e);
    if (!raw) return fail("read image archive: a member has no readable name", EINVAL);
    const std::string context = "archive member " + quote(raw);
    std::string name = TRY_CTX(clean_member_name(raw), context);
    if (const char* target = archive_entry_hardlink(e)) {
      links_[name] =
          TRY_CTX(clean_member_name(target), context + ": hardlink target " + quote(target));
      members_.erase(name);
      continue;
    }
    switch (archive_entry_filetype(e)) {
      case AE_IFREG:
        TRY_CTX(stage_member(a.get(), name), context);
        break;
      case AE_IFLNK: {
        std::string target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
        std::string joined =
            target.starts_with('/') ? target : join_clean(parent_path(name), target);
        links_[name] =
            TRY_CTX(clean_member_name(joined), context + ": symlink target " + quote(target));
        members_.erase(name);
        break;
      }
      default:  // directories and anything else carry nothing we read
        break;
    }
  }
  return {};
}

Status Staging::stage_member(struct archive* a, const std::string& name) {
  std::string tmp = ".partial-" + std::to_string(++counter_);
  UniqueFd out(::openat(fd_.get(), tmp.c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return fail_errno("create " + join_path(dir_, tmp));
  Sha256 hash;
  Member m;
  for (;;) {
    const void* block;
    size_t size;
    la_int64_t offset;
    int r = archive_read_data_block(a, &block, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      ::unlinkat(fd_.get(), tmp.c_str(), 0);
      return fail(std::string("read: ") + archive_error_string(a), EIO);
    }
    // Members are not sparse in practice; a hole would be read back as zeros anyway.
    if (static_cast<uint64_t>(offset) != m.size) {
      ::unlinkat(fd_.get(), tmp.c_str(), 0);
      return fail("sparse members are not supported", EINVAL);
    }
    auto* p = static_cast<const unsigned char*>(block);
    for (size_t i = 0; i < size && m.size + i < sizeof m.magic; ++i) m.magic[m.size + i] = p[i];
    hash.update(p, size);
    m.size += size;
    while (size > 0) {
      ssize_t n = ::write(out.get(), p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::unlinkat(fd_.get(), tmp.c_str(), 0);
        return fail_errno("write " + join_path(dir_, tmp), err);
      }
      p += n;
      size -= static_cast<size_t>(n);
    }
  }
  m.hex = hash.finish_hex();
  if (::renameat(fd_.get(), tmp.c_str(), fd_.get(), m.hex.c_str()) != 0) {
    int err = errno;
    ::unlinkat(fd_.get(), tmp.c_str(), 0);
    return fail_errno("rename staged member to " + m.hex, err);
  }
  links_.erase(name);
  members_[name] = m;
  return {};
}

// ---------------------------------------------------------------------------------------
// JSON helpers: every error names the file and the field.

std::unexpected<Error> bad(const std::string& where, const std::string& what) {
  return fail(where + ": " + what, EINVAL);
}

Result<std::string> string_field(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return bad(where + "." + key, "expected a string");
  return it->get<std::string>();
}

std::string optional_string(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::vector<std::string>> string_list(const json& obj, const char* key,
                                             const std::string& where, bool required) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return bad(where + "." + key, "missing");
    return out;
  }
  if (!it->is_array()) return bad(where + "." + key, "expected an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string())
      return bad(where + "." + key + "[" + std::to_string(i) + "]", "expected a string");
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

// The config's rootfs.diff_ids, checked against the number of layers.
Result<std::vector<std::string>> diff_ids_of(const json& config, size_t layers,
                                             const std::string& where) {
  if (!config.is_object()) return bad(where, "expected a JSON object");
  auto rootfs = config.find("rootfs");
  if (rootfs == config.end() || !rootfs->is_object()) return bad(where + ".rootfs", "missing");
  std::string type = TRY(string_field(*rootfs, "type", where + ".rootfs"));
  if (type != "layers")
    return bad(where + ".rootfs.type", "expected \"layers\", got " + quote(type));
  auto ids = TRY(string_list(*rootfs, "diff_ids", where + ".rootfs", false));
  for (size_t i = 0; i < ids.size(); ++i)
    if (!is_sha256_digest(ids[i]))
      return bad(where + ".rootfs.diff_ids[" + std::to_string(i) + "]",
                 "unsupported digest " + quote(ids[i]));
  if (ids.size() != layers)
    return fail(where + ": the config lists " + std::to_string(ids.size()) + " diff_ids for " +
                    std::to_string(layers) + " layers",
                EINVAL);
  return ids;
}

bool is_uncompressed(const Member& m) {
  static const unsigned char gzip[] = {0x1f, 0x8b}, zstd[] = {0x28, 0xb5, 0x2f, 0xfd},
                             xz[] = {0xfd, '7', 'z', 'X'}, bzip2[] = {'B', 'Z', 'h'};
  auto starts = [&](const unsigned char* magic, size_t n) {
    return m.size >= n && std::equal(magic, magic + n, m.magic);
  };
  return !(starts(gzip, 2) || starts(zstd, 4) || starts(xz, 4) || starts(bzip2, 3));
}

std::string docker_layer_media_type(const Member& m) {
  if (m.size >= 2 && m.magic[0] == 0x1f && m.magic[1] == 0x8b)
    return "application/vnd.docker.image.rootfs.diff.tar.gzip";
  if (m.size >= 4 && m.magic[0] == 0x28 && m.magic[1] == 0xb5)
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  return "application/vnd.docker.image.rootfs.diff.tar";
}

// "blobs/sha256/<hex>" or "<hex>.json": the digest the name claims, if any.
std::string digest_claimed_by_name(const std::string& name) {
  std::string_view base = base_name(name);
  if (base.ends_with(".json")) base.remove_suffix(5);
  if (is_sha256_hex(base) && (parent_path(name) == "blobs/sha256" || name.ends_with(".json")))
    return std::string(base);
  return "";
}

// ---------------------------------------------------------------------------------------
// docker-archive

Result<ImageArchive> read_docker_archive(const Staging& staging) {
  ImageArchive out;
  out.format = ArchiveFormat::kDockerArchive;
  json manifest = TRY(staging.read_json("manifest.json"));
  if (!manifest.is_array()) return bad("manifest.json", "expected an array");
  for (size_t i = 0; i < manifest.size(); ++i) {
    const std::string where = "manifest.json[" + std::to_string(i) + "]";
    const json& item = manifest[i];
    if (!item.is_object()) return bad(where, "expected an object");
    ArchiveImage image;
    std::string config_name = TRY(string_field(item, "Config", where));
    image.repo_tags = TRY(string_list(item, "RepoTags", where, false));
    auto layer_names = TRY(string_list(item, "Layers", where, true));

    std::string config_member = TRY_CTX(clean_member_name(config_name), where + ".Config");
    const Member* config = TRY_CTX(staging.find(config_member), where + ".Config");
    if (auto claimed = digest_claimed_by_name(config_member);
        !claimed.empty() && claimed != config->hex)
      return fail(where + ".Config: " + quote(config_name) + " has digest sha256:" + config->hex,
                  EINVAL);
    image.config = TRY(staging.read(config_member));
    image.config_digest = "sha256:" + config->hex;
    json config_json = json::parse(image.config, nullptr, false);
    if (config_json.is_discarded()) return bad(config_name, "invalid JSON");
    auto diff_ids = TRY(diff_ids_of(config_json, layer_names.size(), config_name));

    for (size_t l = 0; l < layer_names.size(); ++l) {
      const std::string lwhere = where + ".Layers[" + std::to_string(l) + "]";
      std::string member = TRY_CTX(clean_member_name(layer_names[l]), lwhere);
      const Member* blob = TRY_CTX(staging.find(member), lwhere);
      std::string digest = "sha256:" + blob->hex;
      if (auto claimed = digest_claimed_by_name(member); !claimed.empty() && claimed != blob->hex)
        return fail(lwhere + ": " + quote(layer_names[l]) + " has digest " + digest, EINVAL);
      if (is_uncompressed(*blob) && digest != diff_ids[l])
        return fail(lwhere + ": " + quote(layer_names[l]) + " has digest " + digest +
                        ", the config expects " + diff_ids[l],
                    EINVAL);
      image.layers.push_back({digest, diff_ids[l], docker_layer_media_type(*blob), blob->size,
                              staging.path_of(*blob)});
    }
    out.images.push_back(std::move(image));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// oci-archive

struct Descriptor {
  std::string media_type;
  std::string digest;
  uint64_t size = 0;
  json annotations;
  json platform;
};

Result<Descriptor> parse_descriptor(const json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected a descriptor object");
  Descriptor d;
  d.media_type = optional_string(j, "mediaType");
  d.digest = TRY(string_field(j, "digest", where));
  if (!is_sha256_digest(d.digest))
    return bad(where + ".digest", "unsupported digest " + quote(d.digest));
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_unsigned())
    return bad(where + ".size", "expected a non-negative integer");
  d.size = size->get<uint64_t>();
  if (auto a = j.find("annotations"); a != j.end() && a->is_object()) d.annotations = *a;
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) d.platform = *p;
  return d;
}

class OciReader {
 public:
  explicit OciReader(const Staging& staging) : staging_(staging) {}

  Result<ImageArchive> read();

 private:
  // The blob a descriptor names, checked against its digest and size.
  Result<const Member*> blob(const Descriptor& d, const std::string& where) {
    std::string hex = d.digest.substr(7);
    const Member* m = TRY_CTX(staging_.find("blobs/sha256/" + hex), where);
    if (m->hex != hex)
      return fail(where + ": blob " + d.digest + " has digest sha256:" + m->hex, EINVAL);
    if (m->size != d.size)
      return fail(where + ": blob " + d.digest + " has " + std::to_string(m->size) +
                      " bytes, the descriptor says " + std::to_string(d.size),
                  EINVAL);
    return m;
  }
  Result<json> blob_json(const Descriptor& d, const std::string& where) {
    TRY(blob(d, where));
    return TRY_CTX(staging_.read_json("blobs/sha256/" + d.digest.substr(7)), where);
  }
  Status add(const Descriptor& d, const std::vector<std::string>& tags, const std::string& where,
             int depth);
  Result<ArchiveImage> image(const Descriptor& d, const json& manifest, const std::string& where);

  const Staging& staging_;
  ImageArchive out_;
};

std::vector<std::string> tags_of(const Descriptor& d) {
  std::string name = optional_string(d.annotations, "io.containerd.image.name");
  if (name.empty()) name = optional_string(d.annotations, "org.opencontainers.image.ref.name");
  if (name.empty()) return {};
  return {name};
}

Result<ImageArchive> OciReader::read() {
  out_.format = ArchiveFormat::kOciArchive;
  json layout = TRY(staging_.read_json("oci-layout"));
  if (!layout.is_object() || optional_string(layout, "imageLayoutVersion") != "1.0.0")
    return bad("oci-layout", "expected {\"imageLayoutVersion\": \"1.0.0\"}");
  json index = TRY(staging_.read_json("index.json"));
  if (!index.is_object()) return bad("index.json", "expected an object");
  auto manifests = index.find("manifests");
  if (manifests == index.end() || !manifests->is_array())
    return bad("index.json.manifests", "expected an array");
  for (size_t i = 0; i < manifests->size(); ++i) {
    std::string where = "index.json.manifests[" + std::to_string(i) + "]";
    Descriptor d = TRY(parse_descriptor((*manifests)[i], where));
    TRY(add(d, tags_of(d), where, 0));
  }
  return std::move(out_);
}

Status OciReader::add(const Descriptor& d, const std::vector<std::string>& tags,
                      const std::string& where, int depth) {
  json j = TRY(blob_json(d, where));
  if (!j.is_object()) return bad(where, "blob " + d.digest + " is not a JSON object");
  std::string type = d.media_type.empty() ? optional_string(j, "mediaType") : d.media_type;
  if (type.empty()) type = j.contains("manifests") ? kOciIndex : kOciManifest;

  if (type == kOciManifest || type == kDockerManifest) {
    for (auto& existing : out_.images) {
      if (existing.manifest_digest != d.digest) continue;
      existing.repo_tags.insert(existing.repo_tags.end(), tags.begin(), tags.end());
      return {};
    }
    out_.images.push_back(TRY(image(d, j, where)));
    out_.images.back().repo_tags = tags;
    return {};
  }
  if (type != kOciIndex && type != kDockerManifestList)
    return bad(where, "unsupported media type " + quote(type));
  if (depth >= kMaxIndexDepth) return bad(where, "indexes nested too deeply");

  // An index of platforms: take linux/<this machine>, ignoring attestations.
  auto list = j.find("manifests");
  if (list == j.end() || !list->is_array())
    return bad(where + " (" + d.digest + ").manifests", "expected an array");
  const std::string want = "linux/" + host_architecture();
  std::vector<std::string> seen;
  std::optional<Descriptor> only, match;
  size_t candidates = 0;
  for (size_t i = 0; i < list->size(); ++i) {
    Descriptor child =
        TRY(parse_descriptor((*list)[i], where + ".manifests[" + std::to_string(i) + "]"));
    if (optional_string(child.annotations, "vnd.docker.reference.type") == "attestation-manifest")
      continue;
    ++candidates;
    only = child;
    std::string platform = optional_string(child.platform, "os") + "/" +
                           optional_string(child.platform, "architecture");
    seen.push_back(platform);
    if (platform == want && !match) match = child;
  }
  if (!match && candidates == 1 && only->platform.is_null()) match = only;
  if (!match) {
    std::string found;
    for (const auto& s : seen) found += (found.empty() ? "" : ", ") + s;
    return fail(where + ": index " + d.digest + " has no image for " + want +
                    " (it has: " + (found.empty() ? "none" : found) + ")",
                ENOENT);
  }
  return add(*match, tags, where + " -> " + match->digest, depth + 1);
}

Result<ArchiveImage> OciReader::image(const Descriptor& d, const json& manifest,
                                      const std::string& where) {
  const std::string mwhere = where + " (manifest " + d.digest + ")";
  ArchiveImage image;
  image.manifest_digest = d.digest;
  auto config_it = manifest.find("config");
  if (config_it == manifest.end()) return bad(mwhere + ".config", "missing");
  Descriptor config = TRY(parse_descriptor(*config_it, mwhere + ".config"));
  auto layers_it = manifest.find("layers");
  if (layers_it == manifest.end() || !layers_it->is_array())
    return bad(mwhere + ".layers", "expected an array");

  const Member* config_blob = TRY(blob(config, mwhere + ".config"));
  image.config = TRY_CTX(staging_.read("blobs/sha256/" + config_blob->hex), mwhere + ".config");
  image.config_digest = config.digest;
  json config_json = json::parse(image.config, nullptr, false);
  if (config_json.is_discarded()) return bad("config " + config.digest, "invalid JSON");
  auto diff_ids = TRY(diff_ids_of(config_json, layers_it->size(), "config " + config.digest));

  for (size_t i = 0; i < layers_it->size(); ++i) {
    std::string lwhere = mwhere + ".layers[" + std::to_string(i) + "]";
    Descriptor layer = TRY(parse_descriptor((*layers_it)[i], lwhere));
    const Member* m = TRY(blob(layer, lwhere));
    if (layer.media_type.empty()) return bad(lwhere + ".mediaType", "missing");
    if (is_uncompressed(*m) && layer.digest != diff_ids[i])
      return fail(
          lwhere + ": uncompressed layer " + layer.digest + ", the config expects " + diff_ids[i],
          EINVAL);
    image.layers.push_back(
        {layer.digest, diff_ids[i], layer.media_type, m->size, staging_.path_of(*m)});
  }
  return image;
}

}  // namespace

std::string host_architecture() {
  struct utsname u;
  if (::uname(&u) != 0) return "amd64";
  std::string_view m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64" || m == "arm64") return "arm64";
  if (m.starts_with("armv")) return "arm";
  if (m == "i386" || m == "i486" || m == "i586" || m == "i686") return "386";
  return std::string(m);  // ppc64le, s390x, riscv64, mips64 are spelt the same way
}

Result<ImageArchive> read_image_archive(int fd, const std::string& staging_dir) {
  Staging staging;
  TRY(staging.open(staging_dir));
  TRY(staging.read_all(fd));
  // Docker 25+ writes both layouts into one archive; its own `load` reads manifest.json.
  if (staging.has("manifest.json")) return TRY_CTX(read_docker_archive(staging), "docker-archive");
  if (staging.has("index.json")) return TRY_CTX(OciReader(staging).read(), "oci-archive");
  return fail("not a docker-archive or OCI archive: it has no manifest.json or index.json", EINVAL);
}

Result<ImageArchive> read_image_archive_file(const std::string& path,
                                             const std::string& staging_dir) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open image archive " + path);
  return TRY_CTX(read_image_archive(fd.get(), staging_dir), path);
}

}  // namespace md::image
