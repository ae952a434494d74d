// Image archives made in the test (docker-archive, Docker 25's combined layout, OCI
// archive with compressed layers and a platform index), read back, verified, unpacked.
#include "engine/image/archive_read.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/file_util.h"
#include "engine/image/layer_extract.h"
#include "engine/image/sha256.h"
#include "engine/image/tar_builder_for_test.h"

namespace md::image {
namespace {

using nlohmann::json;
using testing::Compression;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TarBuilder;
using testing::TempDir;

const char kOciManifestType[] = "application/vnd.oci.image.manifest.v1+json";
const char kOciIndexType[] = "application/vnd.oci.image.index.v1+json";

TarBuilder base_layer() {
  return TarBuilder()
      .dir("etc")
      .file("etc/hostname", "one\n")
      .dir("bin")
      .file("bin/tool", "#!/bin/sh\n", 0755)
      .file("gone", "deleted by the next layer");
}

TarBuilder top_layer() {
  return TarBuilder().dir("etc").file("etc/hostname", "two\n").file(".wh.gone", "");
}

std::string config_for(const std::vector<std::string>& uncompressed_layers) {
  json diff_ids = json::array();
  for (const auto& l : uncompressed_layers) diff_ids.push_back(sha256_digest(l));
  return json{{"architecture", host_architecture()},
              {"os", "linux"},
              {"config", {{"Cmd", {"/bin/tool"}}, {"Env", {"PATH=/bin"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
              {"history", {{{"created_by", "layer one"}}, {{"created_by", "layer two"}}}}}
      .dump();
}

json descriptor(const std::string& media_type, const std::string& blob) {
  return {{"mediaType", media_type}, {"digest", sha256_digest(blob)}, {"size", blob.size()}};
}

std::string blob_name(const std::string& blob) { return "blobs/sha256/" + sha256_hex(blob); }

class ArchiveRead : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(make_directories(staging_)); }

  Result<ImageArchive> read(const std::string& archive) {
    std::string path = testing::write_temp_file(tmp_ / "image.tar", archive);
    return read_image_archive_file(path, staging_);
  }

  // The classic `docker save` layout: <id>/layer.tar, <config hex>.json, manifest.json.
  TarBuilder docker_archive(const std::string& l1, const std::string& l2, const std::string& config,
                            json repo_tags = {"demo:latest", "demo:1.0"}) {
    std::string config_name = sha256_hex(config) + ".json";
    json manifest = json::array({{{"Config", config_name},
                                  {"RepoTags", repo_tags},
                                  {"Layers", {"aaaa/layer.tar", "bbbb/layer.tar"}}}});
    return TarBuilder()
        .dir("aaaa")
        .file("aaaa/VERSION", "1.0")
        .file("aaaa/layer.tar", l1)
        .dir("bbbb")
        .file("bbbb/layer.tar", l2)
        .file(config_name, config)
        .file("manifest.json", manifest.dump())
        .file("repositories", "{}");
  }

  // An OCI image layout: gzip and zstd layers, one manifest, tagged in index.json.
  struct Oci {
    std::string l1, l2, config, manifest;
    TarBuilder tar;
  };
  Oci oci_archive() {
    Oci o;
    o.l1 = base_layer().build(Compression::kGzip);
    o.l2 = top_layer().build(Compression::kZstd);
    o.config = config_for({base_layer().build(), top_layer().build()});
    o.manifest = json{{"schemaVersion", 2},
                      {"mediaType", kOciManifestType},
                      {"config", descriptor("application/vnd.oci.image.config.v1+json", o.config)},
                      {"layers",
                       {descriptor("application/vnd.oci.image.layer.v1.tar+gzip", o.l1),
                        descriptor("application/vnd.oci.image.layer.v1.tar+zstd", o.l2)}}}
                     .dump();
    json d = descriptor(kOciManifestType, o.manifest);
    d["annotations"] = {{"io.containerd.image.name", "docker.io/library/demo:2"},
                        {"org.opencontainers.image.ref.name", "2"}};
    json index = {{"schemaVersion", 2}, {"mediaType", kOciIndexType}, {"manifests", {d}}};
    o.tar.file("oci-layout", R"({"imageLayoutVersion": "1.0.0"})")
        .file("index.json", index.dump())
        .dir("blobs/sha256")
        .file(blob_name(o.l1), o.l1)
        .file(blob_name(o.l2), o.l2)
        .file(blob_name(o.config), o.config)
        .file(blob_name(o.manifest), o.manifest);
    return o;
  }

  // Unpacks the image's layers as overlay lowerdirs and checks each diff_id.
  void unpack_and_check(const ArchiveImage& image) {
    for (size_t i = 0; i < image.layers.size(); ++i) {
      std::string dir = tmp_ / ("layer" + std::to_string(i));
      ASSERT_TRUE(make_directories(dir));
      auto stats = extract_layer_file(image.layers[i].path, dir);
      ASSERT_TRUE(stats) << stats.error().message;
      EXPECT_EQ(stats->diff_id, image.layers[i].diff_id) << "layer " << i;
      EXPECT_EQ(stats->digest, image.layers[i].digest) << "layer " << i;
    }
    EXPECT_EQ(*read_file(tmp_ / "layer0/etc/hostname"), "one\n");
    EXPECT_EQ(*read_file(tmp_ / "layer1/etc/hostname"), "two\n");
    if (::geteuid() == 0) {
      struct stat st;
      ASSERT_EQ(::lstat((tmp_ / "layer1/gone").c_str(), &st), 0);
      EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    }
  }

  TempDir tmp_;
  std::string staging_ = tmp_ / "staging";
};

TEST_F(ArchiveRead, DockerArchiveRoundTrip) {
  std::string l1 = base_layer().build(), l2 = top_layer().build(), config = config_for({l1, l2});
  auto r = read(docker_archive(l1, l2, config).build());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->format, ArchiveFormat::kDockerArchive);
  ASSERT_EQ(r->images.size(), 1u);
  const ArchiveImage& image = r->images[0];
  EXPECT_THAT(image.repo_tags, ElementsAre("demo:latest", "demo:1.0"));
  EXPECT_EQ(image.config, config);
  EXPECT_EQ(image.config_digest, sha256_digest(config));
  EXPECT_EQ(image.manifest_digest, "");
  ASSERT_EQ(image.layers.size(), 2u);
  EXPECT_EQ(image.layers[0].digest, sha256_digest(l1));
  EXPECT_EQ(image.layers[0].diff_id, sha256_digest(l1));
  EXPECT_EQ(image.layers[0].size, l1.size());
  EXPECT_EQ(image.layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar");
  EXPECT_EQ(image.layers[1].digest, sha256_digest(l2));
  EXPECT_EQ(image.layers[1].path, staging_ + "/" + sha256_hex(l2));
  unpack_and_check(image);
}

TEST_F(ArchiveRead, CompressedDockerArchive) {
  std::string l1 = base_layer().build(), l2 = top_layer().build(), config = config_for({l1, l2});
  auto r = read(docker_archive(l1, l2, config).build(Compression::kGzip));  // docker save | gzip
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_EQ(r->images[0].layers.size(), 2u);
}

TEST_F(ArchiveRead, UntaggedDockerArchive) {
  std::string l1 = base_layer().build(), l2 = top_layer().build(), config = config_for({l1, l2});
  auto r = read(docker_archive(l1, l2, config, nullptr).build());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->images[0].repo_tags.empty());
}

// Docker 25+: blobs/sha256 plus index.json, with the legacy names as symlinks.
TEST_F(ArchiveRead, Docker25CombinedLayout) {
  std::string l1 = base_layer().build(), l2 = top_layer().build(), config = config_for({l1, l2});
  json manifest =
      json::array({{{"Config", blob_name(config)},
                    {"RepoTags", {"demo:25"}},
                    {"Layers", {"blobs/sha256/" + sha256_hex(l1), "legacy/layer.tar"}}}});
  std::string archive = TarBuilder()
                            .file("oci-layout", R"({"imageLayoutVersion": "1.0.0"})")
                            .file("index.json", R"({"schemaVersion": 2, "manifests": []})")
                            .file(blob_name(l1), l1)
                            .file(blob_name(l2), l2)
                            .file(blob_name(config), config)
                            .dir("legacy")
                            .symlink("legacy/layer.tar", "../" + blob_name(l2))
                            .file("manifest.json", manifest.dump())
                            .build();
  auto r = read(archive);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->format, ArchiveFormat::kDockerArchive);
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_THAT(r->images[0].repo_tags, ElementsAre("demo:25"));
  ASSERT_EQ(r->images[0].layers.size(), 2u);
  EXPECT_EQ(r->images[0].layers[1].digest, sha256_digest(l2));
  unpack_and_check(r->images[0]);
}

TEST_F(ArchiveRead, OciArchiveRoundTrip) {
  Oci o = oci_archive();
  auto r = read(o.tar.build());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->format, ArchiveFormat::kOciArchive);
  ASSERT_EQ(r->images.size(), 1u);
  const ArchiveImage& image = r->images[0];
  EXPECT_THAT(image.repo_tags, ElementsAre("docker.io/library/demo:2"));
  EXPECT_EQ(image.config, o.config);
  EXPECT_EQ(image.config_digest, sha256_digest(o.config));
  EXPECT_EQ(image.manifest_digest, sha256_digest(o.manifest));
  ASSERT_EQ(image.layers.size(), 2u);
  EXPECT_EQ(image.layers[0].digest, sha256_digest(o.l1));
  EXPECT_EQ(image.layers[0].diff_id, sha256_digest(base_layer().build()));
  EXPECT_EQ(image.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(image.layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  unpack_and_check(image);

  // The same layers applied flat: what `export` would write.
  std::string flat = tmp_ / "flat";
  ASSERT_TRUE(make_directories(flat));
  for (const auto& layer : image.layers) {
    UniqueFd fd(::open(layer.path.c_str(), O_RDONLY | O_CLOEXEC));
    auto stats = apply_layer_flat(fd.get(), flat);
    ASSERT_TRUE(stats) << stats.error().message;
  }
  auto names = list_directory(flat);
  EXPECT_EQ(std::set<std::string>(names->begin(), names->end()),
            (std::set<std::string>{"bin", "etc"}));
  EXPECT_EQ(*read_file(flat + "/etc/hostname"), "two\n");
}

TEST_F(ArchiveRead, OciIndexPicksThisPlatform) {
  Oci o = oci_archive();
  json mine = descriptor(kOciManifestType, o.manifest);
  mine["platform"] = {{"os", "linux"}, {"architecture", host_architecture()}};
  json other = {{"mediaType", kOciManifestType},
                {"digest", "sha256:" + std::string(64, 'e')},  // not in the archive: never read
                {"size", 10},
                {"platform", {{"os", "linux"}, {"architecture", "s390x-not-this"}}}};
  json attestation = {{"mediaType", kOciManifestType},
                      {"digest", "sha256:" + std::string(64, 'f')},
                      {"size", 10},
                      {"annotations", {{"vnd.docker.reference.type", "attestation-manifest"}}},
                      {"platform", {{"os", "unknown"}, {"architecture", "unknown"}}}};
  std::string platforms = json{{"schemaVersion", 2},
                               {"mediaType", kOciIndexType},
                               {"manifests", {other, mine, attestation}}}
                              .dump();
  json top = descriptor(kOciIndexType, platforms);
  top["annotations"] = {{"org.opencontainers.image.ref.name", "multi:1"}};
  std::string archive =
      TarBuilder()
          .file("oci-layout", R"({"imageLayoutVersion": "1.0.0"})")
          .file("index.json", json{{"schemaVersion", 2}, {"manifests", {top}}}.dump())
          .file(blob_name(o.l1), o.l1)
          .file(blob_name(o.l2), o.l2)
          .file(blob_name(o.config), o.config)
          .file(blob_name(o.manifest), o.manifest)
          .file(blob_name(platforms), platforms)
          .build();
  auto r = read(archive);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_THAT(r->images[0].repo_tags, ElementsAre("multi:1"));
  EXPECT_EQ(r->images[0].manifest_digest, sha256_digest(o.manifest));

  // Without our platform: an error that lists what there is.
  std::string foreign = json{{"schemaVersion", 2}, {"manifests", {other}}}.dump();
  top = descriptor(kOciIndexType, foreign);
  ASSERT_TRUE(remove_tree(staging_) && make_directories(staging_));
  r = read(TarBuilder()
               .file("oci-layout", R"({"imageLayoutVersion": "1.0.0"})")
               .file("index.json", json{{"schemaVersion", 2}, {"manifests", {top}}}.dump())
               .file(blob_name(foreign), foreign)
               .build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("has no image for linux/" + host_architecture() +
                                           " (it has: linux/s390x-not-this)"));
}

TEST_F(ArchiveRead, OciTagsOfOneManifestAreMerged) {
  Oci o = oci_archive();
  json a = descriptor(kOciManifestType, o.manifest), b = a;
  a["annotations"] = {{"org.opencontainers.image.ref.name", "demo:a"}};
  b["annotations"] = {{"io.containerd.image.name", "docker.io/library/demo:b"}};
  o.tar.file("index.json",
             json{{"schemaVersion", 2}, {"manifests", {a, b}}}.dump());  // replaces the first
  auto r = read(o.tar.build());
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_THAT(r->images[0].repo_tags, ElementsAre("demo:a", "docker.io/library/demo:b"));
}

// ---------------------------------------------------------------------------------------
// Archives that lie.

TEST_F(ArchiveRead, OciBlobWhoseContentDoesNotMatchItsName) {
  Oci o = oci_archive();
  o.tar.file(blob_name(o.l2), top_layer().build(Compression::kGzip));  // same name, other bytes
  auto r = read(o.tar.build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("blob " + sha256_digest(o.l2) + " has digest sha256:"));
}

TEST_F(ArchiveRead, OciDescriptorWithWrongSize) {
  Oci o = oci_archive();
  json d = descriptor(kOciManifestType, o.manifest);
  d["size"] = o.manifest.size() + 1;
  o.tar.file("index.json", json{{"schemaVersion", 2}, {"manifests", {d}}}.dump());
  auto r = read(o.tar.build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("bytes, the descriptor says"));
}

TEST_F(ArchiveRead, DockerLayerThatDoesNotMatchItsDiffId) {
  std::string l1 = base_layer().build(), l2 = top_layer().build();
  std::string config = config_for({l1, TarBuilder().file("other", "x").build()});
  auto r = read(docker_archive(l1, l2, config).build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("Layers[1]: \"bbbb/layer.tar\" has digest " +
                                           sha256_digest(l2) + ", the config expects"));
}

TEST_F(ArchiveRead, DockerConfigNamedByAnotherDigest) {
  std::string l1 = base_layer().build(), l2 = top_layer().build(), config = config_for({l1, l2});
  std::string wrong = sha256_hex("something else") + ".json";
  json manifest = json::array({{{"Config", wrong}, {"Layers", {"a.tar", "b.tar"}}}});
  auto r = read(TarBuilder()
                    .file("a.tar", l1)
                    .file("b.tar", l2)
                    .file(wrong, config)
                    .file("manifest.json", manifest.dump())
                    .build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message,
              HasSubstr(".Config: \"" + wrong + "\" has digest " + sha256_digest(config)));
}

TEST_F(ArchiveRead, LayerCountMustMatchTheConfig) {
  std::string l1 = base_layer().build(), l2 = top_layer().build(), config = config_for({l1});
  auto r = read(docker_archive(l1, l2, config).build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("the config lists 1 diff_ids for 2 layers"));
}

TEST_F(ArchiveRead, MissingLayer) {
  std::string l1 = base_layer().build(), config = config_for({l1, l1});
  json manifest = json::array({{{"Config", "c.json"}, {"Layers", {"a.tar", "missing/layer.tar"}}}});
  auto r = read(TarBuilder()
                    .file("a.tar", l1)
                    .file("c.json", config)
                    .file("manifest.json", manifest.dump())
                    .build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("docker-archive: manifest.json[0].Layers[1]: archive "
                                           "member \"missing/layer.tar\" not found"));
}

TEST_F(ArchiveRead, NotAnImageArchive) {
  auto r = read(TarBuilder().file("hello.txt", "hi").build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("not a docker-archive or OCI archive"));
  r = read("definitely not a tar");
  ASSERT_FALSE(r);
  r = read(TarBuilder().file("manifest.json", "{not json").build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("manifest.json: invalid JSON"));
}

TEST_F(ArchiveRead, MemberNamesCannotEscape) {
  auto r = read(TarBuilder().file("../evil", "x").build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("archive member \"../evil\": path escapes the archive"));
  r = read(TarBuilder().symlink("l", "../../etc/passwd").build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("symlink target \"../../etc/passwd\""));
  // Only content files are written to the staging dir, by digest.
  auto names = list_directory(staging_);
  ASSERT_TRUE(names);
  for (const auto& n : *names) EXPECT_TRUE(is_sha256_hex(n) || n.starts_with(".partial-")) << n;
}

TEST_F(ArchiveRead, LinkCycleIsAnError) {
  json manifest = json::array({{{"Config", "a"}, {"Layers", json::array()}}});
  auto r = read(TarBuilder()
                    .symlink("a", "b")
                    .symlink("b", "a")
                    .file("manifest.json", manifest.dump())
                    .build());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("too many levels of links"));
}

}  // namespace
}  // namespace md::image
