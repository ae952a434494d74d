#include "engine/store/image_store.h"

#include <algorithm>
#include <cerrno>

#include "engine/store/container_store.h"
#include "engine/store/ids.h"

namespace md::store {

namespace {

constexpr std::string_view kSha256 = "sha256:";

bool is_image_id(std::string_view s) {
  return s.size() == kSha256.size() + kIdLength && s.starts_with(kSha256) &&
         is_hex(s.substr(kSha256.size()));
}

// "sha256:3f2a1b4c5d6e…" → "3f2a1b4c5d6e", as `docker images` shows it.
std::string short_image_id(std::string_view id) {
  if (id.starts_with(kSha256)) id.remove_prefix(kSha256.size());
  return short_id(id);
}

bool valid_tag_part(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!word(t[0])) return false;
  return std::all_of(t.begin(), t.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

std::unexpected<Error> no_such_image(std::string_view ref) {
  return fail("no such image: " + std::string(ref), ENOENT);
}

}  // namespace

Result<std::string> normalize_tag(std::string_view ref) {
  auto bad = [&](const std::string& why) {
    return fail("invalid reference \"" + std::string(ref) + "\": " + why, EINVAL);
  };
  if (ref.empty()) return bad("empty");
  if (ref.find('@') != std::string_view::npos) return bad("digest references are not supported here");
  for (char c : ref)
    if (c <= ' ' || c == 0x7f) return bad("contains whitespace or a control character");

  // The tag is after the last ':' that follows the last '/' (a ':' before a '/' is a port).
  std::string_view repo = ref, tag = "latest";
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    repo = ref.substr(0, colon);
    tag = ref.substr(colon + 1);
  }
  if (!valid_tag_part(tag)) return bad("tag must be [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

  // Docker Hub names are shown in their familiar form.
  for (std::string_view hub : {"docker.io/", "index.docker.io/", "registry-1.docker.io/"})
    if (repo.starts_with(hub)) {
      repo.remove_prefix(hub.size());
      break;
    }
  if (repo.starts_with("library/") && repo.find('/', 8) == std::string_view::npos)
    repo.remove_prefix(8);
  if (repo.empty() || repo.front() == '/' || repo.back() == '/' ||
      repo.find("//") != std::string_view::npos)
    return bad("empty repository name component");

  // The first component is a registry host when it has a '.' or ':' or is localhost;
  // hosts may have upper case, repository paths may not.
  std::string_view path = repo;
  size_t first = repo.find('/');
  if (first != std::string_view::npos) {
    std::string_view host = repo.substr(0, first);
    if (host.find('.') != std::string_view::npos || host.find(':') != std::string_view::npos ||
        host == "localhost")
      path = repo.substr(first + 1);
  }
  for (char c : path) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '/';
    if (!ok) return bad("repository name must be lowercase [a-z0-9._-/]");
  }
  return std::string(repo) + ":" + std::string(tag);
}

Result<Image> ImageStore::get_by_id(const std::string& id) {
  Statement st =
      TRY(db_.prepare("SELECT id, created, added, size, config FROM images WHERE id = ?1"));
  st.bind(1, id);
  if (!TRY(st.step())) return no_such_image(id);
  Image img;
  img.id = st.column_text(0);
  img.created = st.column_int(1);
  img.added = st.column_int(2);
  img.size = st.column_int(3);
  img.config = st.column_text(4);

  Statement tags = TRY(db_.prepare("SELECT tag FROM image_tags WHERE image_id = ?1 ORDER BY tag"));
  tags.bind(1, id);
  while (TRY(tags.step())) img.tags.push_back(tags.column_text(0));

  Statement layers = TRY(
      db_.prepare("SELECT digest FROM image_layers WHERE image_id = ?1 ORDER BY position"));
  layers.bind(1, id);
  while (TRY(layers.step())) img.layers.push_back(layers.column_text(0));
  return img;
}

Result<std::string> ImageStore::resolve(std::string_view ref) {
  if (ref.empty()) return fail("empty image reference", EINVAL);
  std::string_view hex = ref.starts_with(kSha256) ? ref.substr(kSha256.size()) : ref;
  if (hex.size() == kIdLength && is_hex(hex)) {
    std::string id = std::string(kSha256) + std::string(hex);
    Statement st = TRY(db_.prepare("SELECT 1 FROM images WHERE id = ?1"));
    st.bind(1, id);
    if (TRY(st.step())) return id;
  }
  std::string shown(ref);
  if (!ref.starts_with(kSha256)) {
    if (auto tag = normalize_tag(ref)) {
      shown = *tag;
      Statement st = TRY(db_.prepare("SELECT image_id FROM image_tags WHERE tag = ?1"));
      st.bind(1, *tag);
      if (TRY(st.step())) return st.column_text(0);
    }
  }
  if (!is_hex(hex)) return no_such_image(shown);
  std::string prefix = std::string(kSha256) + std::string(hex);
  Statement st =
      TRY(db_.prepare("SELECT id FROM images WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 11"));
  st.bind(1, prefix).bind(2, prefix + "g");
  std::vector<std::string> ids;
  while (TRY(st.step())) ids.push_back(st.column_text(0));
  if (ids.empty()) return no_such_image(ref);
  if (ids.size() == 1) return ids[0];
  std::string list;
  for (size_t i = 0; i < ids.size() && i < 10; ++i) {
    if (i) list += ", ";
    list += short_image_id(ids[i]);
  }
  if (ids.size() > 10) list += ", …";
  return fail("multiple images match prefix \"" + std::string(ref) + "\": " + list, EINVAL);
}

Result<Image> ImageStore::add(const Image& image) {
  if (!is_image_id(image.id))
    return fail("add image: invalid id \"" + image.id + "\": want sha256:<64 hex digits>", EINVAL);
  std::vector<std::string> tags;
  for (const std::string& t : image.tags) tags.push_back(TRY_CTX(normalize_tag(t), "add image"));
  for (const std::string& l : image.layers)
    if (l.empty()) return fail("add image " + short_image_id(image.id) + ": empty layer digest", EINVAL);

  return db_.transaction([&]() -> Result<Image> {
    Statement exists = TRY(db_.prepare("SELECT 1 FROM images WHERE id = ?1"));
    exists.bind(1, image.id);
    if (!TRY(exists.step())) {
      Statement ins = TRY(db_.prepare(
          "INSERT INTO images (id, created, added, size, config) VALUES (?1, ?2, ?3, ?4, ?5)"));
      ins.bind_all(image.id, image.created, now_unix_nanos(), image.size, image.config);
      TRY_CTX(ins.run(), "add image " + short_image_id(image.id));
      Statement layer = TRY(db_.prepare(
          "INSERT INTO layers (digest, refcount) VALUES (?1, 1) "
          "ON CONFLICT (digest) DO UPDATE SET refcount = refcount + 1"));
      Statement use = TRY(db_.prepare(
          "INSERT INTO image_layers (image_id, position, digest) VALUES (?1, ?2, ?3)"));
      for (size_t i = 0; i < image.layers.size(); ++i) {
        layer.reset();
        layer.bind(1, image.layers[i]);
        TRY_CTX(layer.run(), "add image " + short_image_id(image.id));
        use.reset();
        use.bind_all(image.id, static_cast<std::int64_t>(i), image.layers[i]);
        TRY_CTX(use.run(), "add image " + short_image_id(image.id));
      }
    }
    Statement tag = TRY(db_.prepare(
        "INSERT INTO image_tags (tag, image_id) VALUES (?1, ?2) "
        "ON CONFLICT (tag) DO UPDATE SET image_id = excluded.image_id"));
    for (const std::string& t : tags) {
      tag.reset();
      tag.bind_all(t, image.id);
      TRY_CTX(tag.run(), "tag image " + short_image_id(image.id) + " as " + t);
    }
    return get_by_id(image.id);
  });
}

Result<Image> ImageStore::get(std::string_view ref) {
  return db_.read_transaction([&]() -> Result<Image> {
    std::string id = TRY(resolve(ref));
    return get_by_id(id);
  });
}

Result<std::vector<Image>> ImageStore::list() {
  return db_.read_transaction([&]() -> Result<std::vector<Image>> {
    Statement st = TRY(db_.prepare("SELECT id FROM images ORDER BY created DESC, id"));
    std::vector<std::string> ids;
    while (TRY(st.step())) ids.push_back(st.column_text(0));
    std::vector<Image> out;
    for (const std::string& id : ids) out.push_back(TRY(get_by_id(id)));
    return out;
  });
}

Result<std::vector<std::pair<std::string, std::int64_t>>> ImageStore::list_layers() {
  Statement st = TRY(db_.prepare("SELECT digest, refcount FROM layers ORDER BY digest"));
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (TRY(st.step())) out.emplace_back(st.column_text(0), st.column_int(1));
  return out;
}

Status ImageStore::tag(std::string_view ref, std::string_view new_tag) {
  std::string t = TRY(normalize_tag(new_tag));
  return db_.transaction([&]() -> Status {
    std::string id = TRY(resolve(ref));
    Statement st = TRY(db_.prepare(
        "INSERT INTO image_tags (tag, image_id) VALUES (?1, ?2) "
        "ON CONFLICT (tag) DO UPDATE SET image_id = excluded.image_id"));
    st.bind_all(t, id);
    TRY_CTX(st.run(), "tag image " + short_image_id(id) + " as " + t);
    return {};
  });
}

Status ImageStore::untag(std::string_view tag) {
  std::string t = TRY(normalize_tag(tag));
  return db_.transaction([&]() -> Status {
    Statement st = TRY(db_.prepare("DELETE FROM image_tags WHERE tag = ?1"));
    st.bind(1, t);
    TRY_CTX(st.run(), "untag " + t);
    if (db_.changes() == 0) return no_such_image(t);
    return {};
  });
}

Result<RemovedImage> ImageStore::remove(std::string_view ref, bool force) {
  return db_.transaction([&]() -> Result<RemovedImage> {
    RemovedImage out;
    std::string id = TRY(resolve(ref));
    if (!force) {
      Statement users = TRY(db_.prepare("SELECT id FROM containers WHERE image = ?1 LIMIT 1"));
      users.bind(1, id);
      if (TRY(users.step()))
        return fail("unable to delete " + short_image_id(id) +
                        " (must be forced): image is being used by container " +
                        short_id(users.column_text(0)),
                    EBUSY);
    }
    Image img = TRY(get_by_id(id));
    out.untagged = img.tags;
    out.deleted = id;

    Statement dec =
        TRY(db_.prepare("UPDATE layers SET refcount = refcount - 1 WHERE digest = ?1"));
    for (const std::string& digest : img.layers) {
      dec.reset();
      dec.bind(1, digest);
      TRY_CTX(dec.run(), "release layer " + digest);
    }
    // Cascades to image_tags and image_layers.
    Statement del = TRY(db_.prepare("DELETE FROM images WHERE id = ?1"));
    del.bind(1, id);
    TRY_CTX(del.run(), "delete image " + short_image_id(id));

    std::vector<std::string> digests = img.layers;
    std::sort(digests.begin(), digests.end());
    digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
    Statement gone = TRY(db_.prepare("DELETE FROM layers WHERE digest = ?1 AND refcount = 0"));
    for (const std::string& digest : digests) {
      gone.reset();
      gone.bind(1, digest);
      TRY_CTX(gone.run(), "forget layer " + digest);
      if (db_.changes() == 1) out.unused_layers.push_back(digest);
    }
    return out;
  });
}

}  // namespace md::store
