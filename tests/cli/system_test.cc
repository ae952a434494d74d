// container prune, system df/info/prune, info.
#include <set>
#include <sstream>

#include "cli_harness.h"

namespace mdcli {
namespace {

using System = Cli;


TEST_F(System, ContainerPruneRemovesOnlyStoppedOnes) {
  std::string up = unique("up"), done = unique("done"), made = unique("made"), kept = unique("kept");
  md_ok({"run", "-d", "--name", up, "busybox", "sleep", "1000"});
  std::string done_id = md_ok({"run", "-d", "--name", done, "busybox", "true"});
  ASSERT_TRUE(eventually([&] { return state(done) == "exited"; }));
  std::string made_id = md_ok({"create", "--name", made, "busybox", "true"});
  md_ok({"create", "--name", kept, "--label", "keep=yes", "busybox", "true"});
  Out no = md({"container", "prune"}, "n\n");
  EXPECT_EQ(no.out, "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
  EXPECT_EQ(lines_of(md_ok({"ps", "-aq"})).size(), 4u);
  Out r = md({"container", "prune", "-f", "--filter", "label!=keep"});
  ASSERT_TRUE(r.ok()) << r;
  auto l = lines_of(r.out);
  ASSERT_EQ(l.size(), 4u) << r;
  EXPECT_EQ(l[0], "Deleted Containers:");
  std::set<std::string> ids = {l[1], l[2]};
  EXPECT_EQ(ids, (std::set<std::string>{done_id, made_id}));
  EXPECT_EQ(l[3].rfind("Total reclaimed space: ", 0), 0u);
  EXPECT_EQ(state(up), "running");
  EXPECT_EQ(state(kept), "created");
  EXPECT_EQ(md({"container", "prune", "--filter", "color=red", "-f"}).err, "Error response from daemon: invalid filter 'color'\n");
}

TEST_F(System, DfCountsImagesContainersVolumes) {
  std::string name = unique("df");
  md_ok({"run", "-d", "--name", name, "-v", unique("v") + ":/data", "busybox", "sleep", "1000"});
  md_ok({"run", "--name", unique("x"), "busybox", "sh", "-c", "echo 0123456789 > /file"});
  auto l = lines_of(md_ok({"system", "df"}));
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l[0], "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE");
  EXPECT_EQ(l[1].rfind("Images          1         1         ", 0), 0u) << l[1];
  EXPECT_EQ(l[2].rfind("Containers      2         1         11B       11B (100%)", 0), 0u) << l[2];
  EXPECT_EQ(l[3].rfind("Local Volumes   1         1         0B        0B", 0), 0u) << l[3];
  EXPECT_EQ(l[4], "Build Cache     0         0         0B        0B");
  auto rows = lines_of(md_ok({"system", "df", "--format", "{{json .}}"}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(json::parse(rows[0])["Type"], "Images");
  std::string v = md_ok({"system", "df", "-v"});
  for (auto s : {"Images space usage:", "Containers space usage:", "Local Volumes space usage:", "Build cache usage: 0B",
                 "REPOSITORY   TAG", "busybox", name.c_str()})
    EXPECT_NE(v.find(s), std::string::npos) << s << "\n" << v;
}

TEST_F(System, InfoTextAndJson) {
  md_ok({"run", "-d", "--name", unique("i"), "busybox", "sleep", "1000"});
  md_ok({"create", "--name", unique("j"), "busybox", "true"});
  std::string text = md_ok({"info"});
  for (const std::string& s : std::vector<std::string>{"Server:\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n",
                        " Storage Driver: overlay2\n", " Logging Driver: json-file\n", " Cgroup Driver: cgroupfs\n",
                        " Cgroup Version: ", " Kernel Version: ", " Operating System: ", " CPUs: ", " Total Memory: ",
                        " Docker Root Dir: " + root_ + "\n"})
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  json j = json::parse(md_ok({"system", "info", "--format", "{{json .}}"}));
  EXPECT_EQ(j["Containers"], 2);
  EXPECT_EQ(j["ContainersRunning"], 1);
  EXPECT_EQ(j["ContainersStopped"], 1);
  EXPECT_EQ(j["Images"], 1);
  EXPECT_EQ(j["Driver"], "overlay2");
  EXPECT_EQ(j["DockerRootDir"], root_);
  EXPECT_GT(j["NCPU"].get<int>(), 0);
  EXPECT_GT(j["MemTotal"].get<int64_t>(), 0);
  EXPECT_EQ(j["OSType"], "linux");
  EXPECT_EQ(md_ok({"info", "-f", "{{.Driver}} {{.CgroupDriver}}"}), "overlay2 cgroupfs");
  // The engine id is stable.
  EXPECT_EQ(md_ok({"info", "-f", "{{.ID}}"}), md_ok({"info", "-f", "{{.ID}}"}));
}

TEST_F(System, PruneRemovesStoppedDanglingAndWithVolumesAnonymous) {
  std::string up = unique("up"), gone = unique("gone");
  md_ok({"run", "-d", "--name", up, "busybox", "sleep", "1000"});
  md_ok({"run", "--name", gone, "-v", "/anon", "busybox", "true"});
  std::string anon = inspect(gone)["Mounts"][0]["Name"];
  // A dangling image: the same tar imported without a tag.
  std::string dangling = md_ok({"import", busybox_tar()});
  Out no = md({"system", "prune", "--volumes"}, "n\n");
  EXPECT_EQ(no.out,
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n"
            "  - all anonymous volumes not used by at least one container\n  - all dangling images\n"
            "  - unused build cache\n\nAre you sure you want to continue? [y/N] ");
  Out r = md({"system", "prune", "-f", "--volumes"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_NE(r.out.find("Deleted Containers:\n" + inspect(up)["Id"].get<std::string>().substr(0, 0)), std::string::npos);
  EXPECT_NE(r.out.find("Deleted Volumes:\n" + anon + "\n"), std::string::npos) << r;
  EXPECT_NE(r.out.find("Deleted Images:\ndeleted: " + dangling), std::string::npos) << r;
  EXPECT_NE(r.out.find("Total reclaimed space: "), std::string::npos);
  EXPECT_EQ(state(up), "running");
  EXPECT_EQ(md({"inspect", gone}).code, 1);
  EXPECT_EQ(lines_of(md_ok({"images", "-q"})).size(), 1u);
  EXPECT_EQ(md_ok({"volume", "ls", "-q"}), "");
}

}  // namespace
}  // namespace mdcli
