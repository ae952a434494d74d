// ImageService end to end on a private engine root: import, load (docker-archive and OCI),
// save → load keeping ids, layer sharing and deletion, prune, history, commit, inspect.
// Checks that need root (whiteout devices, trusted xattrs, overlay mounts) skip without it.
#include "engine/image/image_service.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/scope_guard.h"
#include "engine/image/archive_read.h"
#include "engine/image/image_config.h"
#include "engine/image/sha256.h"
#include "engine/image/tar_builder_for_test.h"
#include "engine/store/container_store.h"
#include "engine/store/schema.h"
#include "engine/store/testing.h"

namespace md::image {
namespace {

using nlohmann::json;
using testing::Compression;
using testing::TarBuilder;
using testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = DeleteRecord::Kind;

bool is_root() { return ::geteuid() == 0; }

TarBuilder base_layer() {
  return TarBuilder()
      .dir("etc")
      .file("etc/hostname", "one\n")
      .file("etc/os-release", "ID=test\n")
      .dir("bin")
      .file("bin/tool", "#!/bin/sh\necho tool\n", 0755)
      .dir("var/cache")
      .file("var/cache/old", "cached")
      .file("gone", "deleted by the next layer");
}

TarBuilder top_layer() {
  return TarBuilder()
      .dir("etc")
      .file("etc/hostname", "two\n")
      .file(".wh.gone", "")
      .dir("var/cache")
      .file("var/cache/.wh..wh..opq", "")
      .file("var/cache/new", "fresh");
}

std::string config_for(const std::vector<std::string>& uncompressed_layers,
                       const std::string& created = "2023-11-14T22:13:20Z") {
  json diff_ids = json::array();
  json history = json::array();
  for (const auto& l : uncompressed_layers) {
    diff_ids.push_back(sha256_digest(l));
    history.push_back({{"created", created}, {"created_by", "layer " + std::to_string(history.size())}});
  }
  history.push_back({{"created", created}, {"created_by", "CMD [\"/bin/tool\"]"}, {"empty_layer", true}});
  return json{{"architecture", host_architecture()},
              {"os", "linux"},
              {"created", created},
              {"config", {{"Cmd", {"/bin/tool"}}, {"Env", {"PATH=/bin"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
              {"history", history}}
      .dump();
}

struct ArchiveImageSpec {
  std::vector<std::string> layers;  // blobs as stored (maybe compressed)
  std::vector<std::string> uncompressed;
  json tags;
  std::string created = "2023-11-14T22:13:20Z";
};

// A classic docker-archive with one or more images.
std::string docker_archive(const std::vector<ArchiveImageSpec>& images) {
  TarBuilder tar;
  json manifest = json::array();
  std::set<std::string> written;
  for (const auto& img : images) {
    std::string config = config_for(img.uncompressed, img.created);
    json layers = json::array();
    for (const auto& l : img.layers) {
      std::string name = sha256_hex(l) + "/layer.tar";
      if (written.insert(name).second) tar.dir(sha256_hex(l)).file(name, l);
      layers.push_back(name);
    }
    tar.file(sha256_hex(config) + ".json", config);
    manifest.push_back({{"Config", sha256_hex(config) + ".json"}, {"RepoTags", img.tags}, {"Layers", layers}});
  }
  tar.file("manifest.json", manifest.dump());
  return tar.build();
}

std::string oci_archive(const std::string& l1, const std::string& l2, const std::string& config,
                        const std::string& name) {
  auto desc = [](const std::string& type, const std::string& blob) {
    return json{{"mediaType", type}, {"digest", sha256_digest(blob)}, {"size", blob.size()}};
  };
  std::string manifest =
      json{{"schemaVersion", 2},
           {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
           {"config", desc("application/vnd.oci.image.config.v1+json", config)},
           {"layers",
            {desc("application/vnd.oci.image.layer.v1.tar+gzip", l1),
             desc("application/vnd.oci.image.layer.v1.tar+zstd", l2)}}}
          .dump();
  json d = desc("application/vnd.oci.image.manifest.v1+json", manifest);
  d["annotations"] = {{"io.containerd.image.name", name}};
  json index = {{"schemaVersion", 2}, {"manifests", {d}}};
  auto blob = [](const std::string& b) { return "blobs/sha256/" + sha256_hex(b); };
  return TarBuilder()
      .file("oci-layout", R"({"imageLayoutVersion": "1.0.0"})")
      .file("index.json", index.dump())
      .file(blob(l1), l1)
      .file(blob(l2), l2)
      .file(blob(config), config)
      .file(blob(manifest), manifest)
      .build();
}

// One engine root with its database and service.
struct Engine {
  Engine() {
    auto d = store::open_state_db(root.path());
    EXPECT_TRUE(d) << d.error().message;
    db = std::move(*d);
    service = std::make_unique<ImageService>(root.path(), db);
  }
  std::string layer_dir(const std::string& diff) { return service->layers().dir(diff); }
  std::vector<std::string> layers_on_disk() { return *service->layers().list_on_disk(); }
  std::vector<std::string> staging_left() {
    std::vector<std::string> out;
    if (auto l = list_directory(root / "tmp"))
      for (auto& n : *l) out.push_back(n);
    return out;
  }
  TempDir root;
  store::Database db;
  std::unique_ptr<ImageService> service;
};

UniqueFd fd_of(const TempDir& tmp, const std::string& data) {
  static int counter = 0;
  std::string path = testing::write_temp_file(tmp / ("input" + std::to_string(counter++)), data);
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

std::string save_to_string(ImageService& s, const TempDir& tmp, std::vector<std::string> refs,
                           std::vector<SavedImage>* saved = nullptr) {
  std::string path = tmp / "saved.tar";
  UniqueFd out(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  auto r = s.save(refs, out.get());
  EXPECT_TRUE(r) << r.error().message;
  if (r && saved) *saved = *r;
  return *read_file(path);
}

class ImageServiceTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  Engine a_;
};

// ---------------------------------------------------------------------------------------
// import

TEST_F(ImageServiceTest, ImportMakesAOneLayerImageWithDockersConfig) {
  std::string tar = base_layer().build();
  ImportOptions o;
  o.tag = "docker.io/library/demo:1";
  o.changes = {R"(CMD ["/bin/tool"])", "ENV A=b", "WORKDIR /w", "EXPOSE 80"};
  auto img = a_.service->import_tarball(fd_of(tmp_, tar).get(), o);
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_EQ(img->id, sha256_digest(img->config));
  EXPECT_THAT(img->tags, ElementsAre("demo:1"));
  ASSERT_THAT(img->layers, ElementsAre(sha256_digest(tar)));
  EXPECT_GT(img->size, 0);
  EXPECT_NEAR(static_cast<double>(img->created), static_cast<double>(unix_nanos_now()), 60e9);

  json c = json::parse(img->config);
  EXPECT_EQ(c["architecture"], host_architecture());
  EXPECT_EQ(c["os"], "linux");
  EXPECT_EQ(c["config"]["Env"], json({kDefaultPathEnv, "A=b"}));
  EXPECT_EQ(c["config"]["Cmd"], json({"/bin/tool"}));
  EXPECT_EQ(c["config"]["WorkingDir"], "/w");
  EXPECT_TRUE(c["config"]["ExposedPorts"].contains("80/tcp"));
  EXPECT_EQ(c["rootfs"], json({{"type", "layers"}, {"diff_ids", {sha256_digest(tar)}}}));
  ASSERT_EQ(c["history"].size(), 1u);
  EXPECT_EQ(c["history"][0]["comment"], "Imported from -");
  EXPECT_EQ(c["history"][0]["created"], c["created"]);

  std::string dir = a_.layer_dir(img->layers[0]);
  EXPECT_EQ(*read_file(dir + "/bin/tool"), "#!/bin/sh\necho tool\n");
  EXPECT_THAT(*a_.service->lower_dirs(*img), ElementsAre(dir));
  EXPECT_TRUE(a_.staging_left().empty());
}

TEST_F(ImageServiceTest, ImportOfACompressedTarUsesTheUncompressedDiffId) {
  ImportOptions o;
  o.message = "my message";
  o.platform = "linux/arm64/v8";
  auto img = a_.service->import_tarball(fd_of(tmp_, base_layer().build(Compression::kGzip)).get(), o);
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_TRUE(img->tags.empty());  // dangling
  EXPECT_THAT(img->layers, ElementsAre(sha256_digest(base_layer().build())));
  json c = json::parse(img->config);
  EXPECT_EQ(c["history"][0]["comment"], "my message");
  EXPECT_EQ(c["architecture"], "arm64");
  EXPECT_EQ(c["variant"], "v8");
}

TEST_F(ImageServiceTest, FailedImportLeavesNothing) {
  ImportOptions o;
  o.changes = {"ONBUILD RUN make"};
  auto img = a_.service->import_tarball(fd_of(tmp_, base_layer().build()).get(), o);
  ASSERT_FALSE(img);
  EXPECT_THAT(img.error().message, HasSubstr("ONBUILD"));

  img = a_.service->import_tarball(fd_of(tmp_, TarBuilder().file("../x", "x").build()).get(), {});
  ASSERT_FALSE(img);
  EXPECT_THAT(img.error().message, HasSubstr("escapes"));
  img = a_.service->import_tarball(fd_of(tmp_, "not a tar at all, not even close").get(), {});
  ASSERT_FALSE(img);
  o = {};
  o.platform = "windows/amd64";
  EXPECT_FALSE(a_.service->import_tarball(fd_of(tmp_, base_layer().build()).get(), o));

  EXPECT_TRUE(a_.layers_on_disk().empty());
  EXPECT_TRUE(a_.staging_left().empty());
  EXPECT_TRUE(a_.service->list()->empty());
}

TEST_F(ImageServiceTest, ImportingTheSameTarTwiceSharesTheLayer) {
  std::string tar = base_layer().build();
  auto one = a_.service->import_tarball(fd_of(tmp_, tar).get(), {});
  ASSERT_TRUE(one);
  auto two = a_.service->import_tarball(fd_of(tmp_, tar).get(), {});  // another created time
  ASSERT_TRUE(two);
  EXPECT_NE(one->id, two->id);
  EXPECT_EQ(one->layers, two->layers);
  EXPECT_EQ(a_.layers_on_disk().size(), 1u);
}

// ---------------------------------------------------------------------------------------
// load

TEST_F(ImageServiceTest, LoadsADockerArchive) {
  std::string l1 = base_layer().build(), l2 = top_layer().build();
  auto loaded = a_.service->load(
      fd_of(tmp_, docker_archive({{{l1, l2}, {l1, l2}, {"demo:latest", "other/demo:1.0"}}})).get());
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].id, sha256_digest(config_for({l1, l2})));
  EXPECT_THAT((*loaded)[0].tags, ElementsAre("demo:latest", "other/demo:1.0"));
  EXPECT_TRUE((*loaded)[0].moved_tags.empty());

  auto img = a_.service->get("demo");
  ASSERT_TRUE(img);
  EXPECT_EQ(img->created, 1700000000LL * 1000000000);
  auto dirs = *a_.service->lower_dirs(*img);
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], a_.layer_dir(sha256_digest(l2)));  // top first
  EXPECT_EQ(*read_file(dirs[0] + "/etc/hostname"), "two\n");
  if (is_root()) {
    struct stat st;
    ASSERT_EQ(::lstat((dirs[0] + "/gone").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    char v[4] = {};
    EXPECT_EQ(::getxattr((dirs[0] + "/var/cache").c_str(), "trusted.overlay.opaque", v, 4), 1);
  }
  EXPECT_TRUE(a_.staging_left().empty());
}

TEST_F(ImageServiceTest, LoadsAnOciArchiveWithCompressedLayers) {
  std::string u1 = base_layer().build(), u2 = top_layer().build();
  std::string config = config_for({u1, u2});
  auto loaded = a_.service->load(
      fd_of(tmp_, oci_archive(base_layer().build(Compression::kGzip),
                              top_layer().build(Compression::kZstd), config,
                              "docker.io/library/demo:2"))
          .get());
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].id, sha256_digest(config));
  EXPECT_THAT((*loaded)[0].tags, ElementsAre("demo:2"));
  auto img = a_.service->get("demo:2");
  ASSERT_TRUE(img);
  EXPECT_THAT(img->layers, ElementsAre(sha256_digest(u1), sha256_digest(u2)));
}

TEST_F(ImageServiceTest, LoadRefusesALayerThatIsNotWhatTheConfigSays) {
  // The config claims the diff_id of another tar than the (compressed) layer holds.
  std::string real = base_layer().build();
  std::string claimed = TarBuilder().file("other", "x").build();
  std::string gz = base_layer().build(Compression::kGzip);
  std::string config = config_for({claimed});
  TarBuilder tar;
  tar.file("l/layer.tar", gz).file(sha256_hex(config) + ".json", config)
      .file("manifest.json", json::array({{{"Config", sha256_hex(config) + ".json"},
                                           {"RepoTags", {"bad:1"}},
                                           {"Layers", {"l/layer.tar"}}}})
                                 .dump());
  auto loaded = a_.service->load(fd_of(tmp_, tar.build()).get());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message, HasSubstr("diff_id mismatch"));
  EXPECT_TRUE(a_.layers_on_disk().empty());
  EXPECT_TRUE(a_.staging_left().empty());
  EXPECT_FALSE(a_.service->get("bad:1"));
}

TEST_F(ImageServiceTest, LoadReportsATagTakenFromAnotherImage) {
  std::string l1 = base_layer().build(), l2 = top_layer().build();
  auto first = a_.service->load(fd_of(tmp_, docker_archive({{{l1}, {l1}, {"demo:latest"}}})).get());
  ASSERT_TRUE(first);
  auto second = a_.service->load(fd_of(tmp_, docker_archive({{{l1, l2}, {l1, l2}, {"demo:latest"}}})).get());
  ASSERT_TRUE(second);
  ASSERT_EQ((*second)[0].moved_tags.size(), 1u);
  EXPECT_EQ((*second)[0].moved_tags[0].first, "demo:latest");
  EXPECT_EQ((*second)[0].moved_tags[0].second, (*first)[0].id);
  EXPECT_TRUE(a_.service->get((*first)[0].id)->tags.empty());  // now dangling
}

// Several processes loading the same archive at once (each with its own connection, as
// separate `minidocker load` commands would): all succeed, one copy of each layer, no
// staging left; an rmi racing them never leaves an image without its layers.
TEST_F(ImageServiceTest, ConcurrentLoadsShareLayersSafely) {
  std::string l1 = base_layer().build(), l2 = top_layer().build();
  std::string archive = testing::write_temp_file(
      tmp_ / "archive.tar", docker_archive({{{l1, l2}, {l1, l2}, {"demo:1"}}}));
  std::string root = a_.root.path();
  std::vector<pid_t> pids;
  for (int i = 0; i < 6; ++i)
    pids.push_back(store::testing::fork_worker([&, i]() -> int {
      auto db = store::open_state_db(root);
      if (!db) return 10;
      ImageService s(root, *db);
      if (i == 5) {  // the racing rmi: fine to find nothing, or to delete
        auto r = s.remove("demo:1", false, {});
        return r || r.error().errno_value == ENOENT ? 0 : 11;
      }
      UniqueFd fd(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
      auto r = s.load(fd.get());
      return r ? 0 : 12;
    }));
  for (pid_t p : pids) EXPECT_EQ(store::testing::wait_worker(p), 0);
  EXPECT_TRUE(a_.staging_left().empty());
  // Whatever the order: every recorded image has its layers on disk, and nothing else is.
  auto images = *a_.service->list();
  std::set<std::string> used;
  for (const auto& img : images) {
    EXPECT_TRUE(a_.service->lower_dirs(img)) << img.id;
    used.insert(img.layers.begin(), img.layers.end());
  }
  auto on_disk = a_.layers_on_disk();
  EXPECT_EQ(std::set<std::string>(on_disk.begin(), on_disk.end()), used);
}

// ---------------------------------------------------------------------------------------
// save

TEST_F(ImageServiceTest, SaveThenLoadElsewhereKeepsTheIds) {
  std::string l1 = base_layer().build(), l2 = top_layer().build();
  ASSERT_TRUE(a_.service->load(
      fd_of(tmp_, docker_archive({{{base_layer().build(Compression::kGzip), l2}, {l1, l2}, {"demo:latest", "demo:1"}}}))
          .get()));
  ImportOptions o;
  o.tag = "imported:gz";
  auto imported =
      a_.service->import_tarball(fd_of(tmp_, top_layer().build(Compression::kZstd)).get(), o);
  ASSERT_TRUE(imported);

  std::vector<SavedImage> saved;
  std::string archive = save_to_string(*a_.service, tmp_, {"demo", "imported:gz"}, &saved);
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0].saved_id, saved[0].id);
  EXPECT_THAT(saved[0].tags, ElementsAre("demo:1", "demo:latest"));
  EXPECT_EQ(saved[1].saved_id, imported->id);

  // The archive as Docker reads it.
  TempDir staging;
  auto read = read_image_archive(fd_of(tmp_, archive).get(), staging.path());
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->images.size(), 2u);
  EXPECT_EQ(read->images[0].config_digest, saved[0].id);
  for (const auto& l : read->images[0].layers) EXPECT_EQ(l.digest, l.diff_id);  // plain tars

  Engine b;
  auto loaded = b.service->load(fd_of(tmp_, archive).get());
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].id, saved[0].id);
  EXPECT_THAT((*loaded)[0].tags, ElementsAre("demo:1", "demo:latest"));
  EXPECT_EQ((*loaded)[1].id, imported->id);
  EXPECT_EQ(*read_file(b.layer_dir(sha256_digest(l2)) + "/etc/hostname"), "two\n");

  // And back: loading what we saved is idempotent here too.
  auto again = a_.service->load(fd_of(tmp_, save_to_string(*b.service, tmp_, {saved[0].id})).get());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)[0].id, saved[0].id);
  EXPECT_TRUE((*again)[0].tags.empty());  // saved by id: no tags
}

TEST_F(ImageServiceTest, SaveRemakesALayerThatCannotBeReproduced) {
  // A tar writing the same file twice: only the last version is on disk.
  std::string tar = TarBuilder().file("f", "first").file("f", "second").file("g", "g").build();
  ImportOptions o;
  o.tag = "dup:1";
  auto img = a_.service->import_tarball(fd_of(tmp_, tar).get(), o);
  ASSERT_TRUE(img);
  std::vector<SavedImage> saved;
  std::string archive = save_to_string(*a_.service, tmp_, {"dup:1"}, &saved);
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_NE(saved[0].saved_id, img->id);
  Engine b;
  auto loaded = b.service->load(fd_of(tmp_, archive).get());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)[0].id, saved[0].saved_id);
  auto got = b.service->get("dup:1");
  EXPECT_EQ(*read_file(b.layer_dir(got->layers[0]) + "/f"), "second");
  json c = json::parse(got->config);
  EXPECT_EQ(c["config"], json::parse(img->config)["config"]);
}

TEST_F(ImageServiceTest, SaveOfAnUnknownImageFails) {
  std::string path = tmp_ / "out.tar";
  UniqueFd out(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  auto r = a_.service->save({"nope:1"}, out.get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, ENOENT);
}

// ---------------------------------------------------------------------------------------
// rmi, prune

TEST_F(ImageServiceTest, RemoveDeletesOnlyLayersNoImageUses) {
  std::string l1 = base_layer().build(), l2 = top_layer().build();
  ASSERT_TRUE(a_.service->load(fd_of(tmp_, docker_archive({{{l1}, {l1}, {"base:1"}},
                                                          {{l1, l2}, {l1, l2}, {"app:1", "app:2"}}}))
                                   .get()));
  ASSERT_EQ(a_.layers_on_disk().size(), 2u);
  std::string app_id = a_.service->get("app:1")->id;

  // A tag of an image with two tags: only untagged.
  auto r = a_.service->remove("app:2", false, {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].kind, Kind::kUntagged);
  EXPECT_EQ(r->records[0].value, "app:2");

  // The last tag: untagged, deleted, and its own layer with it (by chain id).
  r = a_.service->remove("app:1", false, {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->records.size(), 3u);
  EXPECT_EQ(r->records[0].value, "app:1");
  EXPECT_EQ(r->records[1].kind, Kind::kDeleted);
  EXPECT_EQ(r->records[1].value, app_id);
  EXPECT_EQ(r->records[2].value, chain_ids({sha256_digest(l1), sha256_digest(l2)})[1]);
  EXPECT_GT(r->space_reclaimed, 0);
  EXPECT_THAT(a_.layers_on_disk(), ElementsAre(sha256_digest(l1)));
  EXPECT_FALSE(path_exists(a_.layer_dir(sha256_digest(l2))));
  EXPECT_FALSE(path_exists(a_.service->layers().split_path(sha256_digest(l2))));

  r = a_.service->remove("base:1", false, {});
  ASSERT_TRUE(r);
  EXPECT_TRUE(a_.layers_on_disk().empty());
  EXPECT_TRUE(a_.service->list()->empty());
}

TEST_F(ImageServiceTest, RemoveConflictsUseDockersWords) {
  std::string l1 = base_layer().build();
  ASSERT_TRUE(a_.service->load(fd_of(tmp_, docker_archive({{{l1}, {l1}, {"x:1", "y:1"}}})).get()));
  std::string id = a_.service->get("x:1")->id;
  std::string short_id = id.substr(7, 12);

  auto r = a_.service->remove(short_id, false, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EBUSY);
  EXPECT_EQ(r.error().message, "conflict: unable to delete " + short_id +
                                   " (must be forced) - image is referenced in multiple repositories");

  std::vector<ImageUser> running = {{std::string(64, 'c'), true}};
  r = a_.service->remove(id, true, running);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("(cannot be forced) - image is being used by running container cccccccccccc"));

  std::vector<ImageUser> stopped = {{std::string(64, 'd'), false}};
  ASSERT_TRUE(a_.service->remove("y:1", false, stopped));  // another tag remains: fine
  r = a_.service->remove("x:1", false, stopped);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("conflict: unable to remove repository reference \"x:1\" (must force) - container dddddddddddd"));

  // Forced: untagged, but kept while the container uses its layers.
  r = a_.service->remove("x:1", true, stopped);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].kind, Kind::kUntagged);
  EXPECT_TRUE(a_.service->get(id));
  EXPECT_EQ(a_.layers_on_disk().size(), 1u);

  // Unused now: by id.
  r = a_.service->remove(id, false, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->records[0].kind, Kind::kDeleted);
  EXPECT_TRUE(a_.layers_on_disk().empty());
}

TEST_F(ImageServiceTest, RemoveRefusesAnImageAContainerRecordUses) {
  ImportOptions o;
  o.tag = "used:1";
  auto img = a_.service->import_tarball(fd_of(tmp_, base_layer().build()).get(), o);
  ASSERT_TRUE(img);
  store::ContainerStore containers(a_.db);
  store::Container nc;
  nc.image = img->id;
  ASSERT_TRUE(containers.create(nc));
  // The caller forgot to say: the database still knows.
  auto r = a_.service->remove(img->id, false, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EBUSY);
  EXPECT_EQ(a_.layers_on_disk().size(), 1u);
}

TEST_F(ImageServiceTest, PruneRemovesDanglingImagesAndLeftovers) {
  auto dangling = a_.service->import_tarball(fd_of(tmp_, base_layer().build()).get(), {});
  ASSERT_TRUE(dangling);
  ImportOptions o;
  o.tag = "kept:1";
  auto tagged = a_.service->import_tarball(fd_of(tmp_, top_layer().build()).get(), o);
  ASSERT_TRUE(tagged);
  auto in_use = a_.service->import_tarball(
      fd_of(tmp_, TarBuilder().file("u", "used").build()).get(), {});
  ASSERT_TRUE(in_use);
  // What a crash leaves: a staging directory, an orphan layer, a split without a layer.
  ASSERT_TRUE(make_directories(a_.root / "tmp/image-load-XXXX/blob"));
  ASSERT_TRUE(write_file_atomic(a_.root / "tmp/image-load-XXXX/blob/data", std::string(1000, 'x')));
  ASSERT_TRUE(make_directories(a_.root / "tmp/engine-thing"));  // not ours
  std::string orphan = a_.root / ("image/layers/" + std::string(64, 'e'));
  ASSERT_TRUE(make_directories(orphan));
  ASSERT_TRUE(write_file_atomic(orphan + "/f", "orphan"));
  ASSERT_TRUE(write_file_atomic(a_.root / ("image/layers/" + std::string(64, 'f') + ".tar-split"), "x"));

  PruneOptions p;
  p.in_use = {in_use->id};
  auto r = a_.service->prune(p);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_GE(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].kind, Kind::kDeleted);
  EXPECT_EQ(r->records[0].value, dangling->id);
  EXPECT_GT(r->space_reclaimed, 1000);
  EXPECT_FALSE(a_.service->get(dangling->id));
  EXPECT_TRUE(a_.service->get(tagged->id));
  EXPECT_TRUE(a_.service->get(in_use->id));
  EXPECT_FALSE(path_exists(orphan));
  EXPECT_FALSE(path_exists(a_.root / ("image/layers/" + std::string(64, 'f') + ".tar-split")));
  EXPECT_THAT(a_.staging_left(), ElementsAre("engine-thing"));
  EXPECT_EQ(a_.layers_on_disk().size(), 2u);

  // -a: every image no container uses, tags and all.
  p.all = true;
  r = a_.service->prune(p);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->records.size(), 3u);
  EXPECT_EQ(r->records[0].kind, Kind::kUntagged);
  EXPECT_EQ(r->records[0].value, "kept:1");
  EXPECT_EQ(a_.service->list()->size(), 1u);
  EXPECT_EQ(a_.layers_on_disk().size(), 1u);
}

// ---------------------------------------------------------------------------------------
// history, inspect

TEST_F(ImageServiceTest, HistoryMatchesStepsWithLayers) {
  std::string l1 = base_layer().build(), l2 = top_layer().build();
  ASSERT_TRUE(a_.service->load(fd_of(tmp_, docker_archive({{{l1, l2}, {l1, l2}, {"demo:1"}}})).get()));
  auto rows = a_.service->history("demo:1");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 3u);
  const auto& top = (*rows)[0];
  EXPECT_EQ(top.id, a_.service->get("demo:1")->id);
  EXPECT_THAT(top.tags, ElementsAre("demo:1"));
  EXPECT_EQ(top.created_by, "CMD [\"/bin/tool\"]");
  EXPECT_EQ(top.size, 0);  // empty_layer
  EXPECT_EQ((*rows)[1].id, "<missing>");
  EXPECT_EQ((*rows)[1].created_by, "layer 1");
  EXPECT_EQ((*rows)[1].size, static_cast<int64_t>(std::string("two\nfresh").size()));
  EXPECT_EQ((*rows)[2].created_by, "layer 0");
  EXPECT_EQ((*rows)[2].created, 1700000000LL * 1000000000);
  EXPECT_GT((*rows)[2].size, 0);
}

TEST_F(ImageServiceTest, InspectHasDockersShape) {
  std::string l1 = base_layer().build();
  ASSERT_TRUE(a_.service->load(fd_of(tmp_, docker_archive({{{l1}, {l1}, {"demo:1"}}})).get()));
  auto j = a_.service->inspect("demo:1");
  ASSERT_TRUE(j) << j.error().message;
  std::vector<std::string> keys;
  for (auto& [k, v] : j->items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"Id", "RepoTags", "RepoDigests", "Parent", "Comment",
                                            "Created", "DockerVersion", "Author", "Config",
                                            "Architecture", "Os", "Size", "GraphDriver", "RootFS",
                                            "Metadata"}));
  EXPECT_EQ((*j)["Created"], "2023-11-14T22:13:20Z");
  EXPECT_EQ((*j)["RootFS"]["Layers"][0], sha256_digest(l1));
  EXPECT_EQ((*j)["Config"]["Cmd"][0], "/bin/tool");
  EXPECT_EQ((*j)["Metadata"]["LastTagTime"], "0001-01-01T00:00:00Z");
  EXPECT_EQ((*j)["GraphDriver"]["Data"]["UpperDir"], a_.layer_dir(sha256_digest(l1)));
}

// ---------------------------------------------------------------------------------------
// commit

TEST_F(ImageServiceTest, CommitTurnsAnUpperDirIntoALayer) {
  if (!is_root()) GTEST_SKIP() << "needs root (whiteout devices, trusted.overlay xattrs)";
  std::string l1 = base_layer().build();
  ASSERT_TRUE(a_.service->load(fd_of(tmp_, docker_archive({{{l1}, {l1}, {"base:1"}}})).get()));
  auto parent = *a_.service->get("base:1");

  // What overlayfs leaves in a container's upper dir: a new file, a deleted file (0:0
  // device), a directory that was removed and made again (opaque).
  std::string upper = tmp_ / "upper";
  ASSERT_TRUE(make_directories(upper + "/etc"));
  ASSERT_TRUE(make_directories(upper + "/var/cache"));
  ASSERT_TRUE(write_file_atomic(upper + "/etc/added", "new file\n"));
  ASSERT_EQ(::mknod((upper + "/etc/os-release").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((upper + "/var/cache").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_TRUE(write_file_atomic(upper + "/var/cache/only", "only this\n"));

  CommitOptions o;
  o.upper_dir = upper;
  o.parent = parent.id;
  o.container_config = {{"Cmd", {"/bin/sh", "-c", "make"}}, {"Env", {"PATH=/bin"}}};
  o.changes = {"LABEL committed=yes"};
  o.container_id = std::string(64, 'a');
  o.comment = "a commit";
  o.author = "me <me@example.com>";
  o.tag = "committed:1";
  auto img = a_.service->commit(o);
  ASSERT_TRUE(img) << img.error().message;
  ASSERT_EQ(img->layers.size(), 2u);
  EXPECT_EQ(img->layers[0], parent.layers[0]);
  EXPECT_THAT(img->tags, ElementsAre("committed:1"));

  json c = json::parse(img->config);
  EXPECT_EQ(c["config"]["Labels"]["committed"], "yes");
  EXPECT_EQ(c["container"], std::string(64, 'a'));
  EXPECT_EQ(c["author"], "me <me@example.com>");
  ASSERT_EQ(c["history"].size(), json::parse(parent.config)["history"].size() + 1);
  EXPECT_EQ(c["history"].back()["created_by"], "/bin/sh -c make");
  EXPECT_EQ(c["history"].back()["comment"], "a commit");

  std::string top = a_.layer_dir(img->layers[1]);
  EXPECT_EQ(*read_file(top + "/etc/added"), "new file\n");
  struct stat st;
  ASSERT_EQ(::lstat((top + "/etc/os-release").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
  char v[4] = {};
  EXPECT_EQ(::getxattr((top + "/var/cache").c_str(), "trusted.overlay.opaque", v, 4), 1);

  // Mounted the way a container will be: the deletions and the opaque dir take effect.
  std::string merged = tmp_ / "merged";
  ASSERT_TRUE(make_directories(merged));
  auto dirs = *a_.service->lower_dirs(*img);
  std::string opts = "lowerdir=" + dirs[0] + ":" + dirs[1];
  if (::mount("overlay", merged.c_str(), "overlay", MS_RDONLY, opts.c_str()) != 0)
    GTEST_SKIP() << "overlay mount failed: " << std::strerror(errno);
  ScopeGuard unmount([&] { ::umount2(merged.c_str(), MNT_DETACH); });
  EXPECT_EQ(*read_file(merged + "/etc/hostname"), "one\n");
  EXPECT_EQ(*read_file(merged + "/etc/added"), "new file\n");
  EXPECT_FALSE(path_exists(merged + "/etc/os-release"));
  EXPECT_FALSE(path_exists(merged + "/var/cache/old"));
  EXPECT_EQ(*read_file(merged + "/var/cache/only"), "only this\n");
  unmount.cancel();
  ::umount2(merged.c_str(), MNT_DETACH);

  // The committed image saves and loads with its id, whiteouts and all.
  Engine b;
  auto loaded = b.service->load(fd_of(tmp_, save_to_string(*a_.service, tmp_, {"committed:1"})).get());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)[0].id, img->id);
}

TEST_F(ImageServiceTest, CommitWithoutChangesAddsAnEmptyStep) {
  ImportOptions io;
  io.tag = "base:1";
  auto parent = a_.service->import_tarball(fd_of(tmp_, base_layer().build()).get(), io);
  ASSERT_TRUE(parent);
  ASSERT_TRUE(make_directories(tmp_ / "empty-upper"));
  CommitOptions o;
  o.upper_dir = tmp_ / "empty-upper";
  o.parent = "base:1";
  auto img = a_.service->commit(o);
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_EQ(img->layers, parent->layers);
  json c = json::parse(img->config);
  EXPECT_EQ(c["history"].back()["empty_layer"], true);
  EXPECT_EQ(c["config"], json::parse(parent->config)["config"]);  // the parent's, no container config
  EXPECT_TRUE(img->tags.empty());
  auto rows = a_.service->history(img->id);
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 2u);
}

}  // namespace
}  // namespace md::image
