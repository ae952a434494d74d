// volume create/ls/inspect/rm/prune round trips on a private root.
#include <sstream>

#include "cli_harness.h"

namespace mdcli {
namespace {

using Volume = Cli;


TEST_F(Volume, CreateListInspectRemove) {
  std::string a = unique("a"), b = unique("b");
  EXPECT_EQ(md_ok({"volume", "create", "--label", "env=test", a}), a);
  EXPECT_EQ(md_ok({"volume", "create", b}), b);
  EXPECT_EQ(md_ok({"volume", "create", b}), b);  // creating an existing one returns it
  auto ls = lines_of(md_ok({"volume", "ls"}));
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0], "DRIVER    VOLUME NAME");
  EXPECT_EQ(ls[1], "local     " + a);
  EXPECT_EQ(ls[2], "local     " + b);
  EXPECT_EQ(md_ok({"volume", "ls", "-q", "--filter", "label=env=test"}), a);
  EXPECT_EQ(md_ok({"volume", "ls", "-q", "--filter", "name=" + b}), b);
  json row = json::parse(md_ok({"volume", "ls", "--format", "{{json .}}", "--filter", "label=env"}));
  EXPECT_EQ(row["Name"], a);
  EXPECT_EQ(row["Driver"], "local");
  EXPECT_EQ(row["Labels"], "env=test");
  json v = json::parse(md_ok({"volume", "inspect", a}));
  ASSERT_TRUE(v.is_array());
  EXPECT_EQ(v[0]["Name"], a);
  EXPECT_EQ(v[0]["Driver"], "local");
  EXPECT_EQ(v[0]["Scope"], "local");
  EXPECT_EQ(v[0]["Labels"]["env"], "test");
  EXPECT_EQ(v[0]["Mountpoint"], root_ + "/volumes/" + a + "/_data");
  EXPECT_EQ(md_ok({"volume", "inspect", "-f", "{{.Name}}:{{.Driver}}", a}), a + ":local");
  Out miss = md({"volume", "inspect", "nosuch"});
  EXPECT_EQ(miss.code, 1);
  EXPECT_EQ(miss.out, "[]\n");
  EXPECT_EQ(miss.err, "Error response from daemon: get nosuch: no such volume\n");
  Out rm = md({"volume", "rm", a, b});
  EXPECT_TRUE(rm.ok()) << rm;
  EXPECT_EQ(rm.out, a + "\n" + b + "\n");
  EXPECT_EQ(md_ok({"volume", "ls", "-q"}), "");
  EXPECT_EQ(md({"volume", "rm", a}).code, 1);
  EXPECT_TRUE(md({"volume", "rm", "-f", a}).ok());  // -f: a missing volume is fine
}

TEST_F(Volume, InUseVolumeCannotBeRemoved) {
  std::string vol = unique("data"), name = unique("user");
  md_ok({"run", "-d", "--name", name, "-v", vol + ":/data", "busybox", "sleep", "1000"});
  Out rm = md({"volume", "rm", vol});
  EXPECT_EQ(rm.code, 1);
  EXPECT_NE(rm.err.find("remove " + vol + ": volume is in use"), std::string::npos) << rm;
  EXPECT_EQ(md({"volume", "rm", "-f", vol}).code, 1);  // as Docker: -f does not remove a used volume
  EXPECT_EQ(md_ok({"volume", "ls", "-q", "-f", "dangling=false"}), vol);
  EXPECT_EQ(md_ok({"volume", "ls", "-q", "-f", "dangling=true"}), "");
  md_ok({"rm", "-f", name});
  EXPECT_EQ(md_ok({"volume", "ls", "-q", "-f", "dangling=true"}), vol);
  EXPECT_EQ(md_ok({"volume", "rm", vol}), vol);
}

TEST_F(Volume, DataPersistsBetweenContainers) {
  std::string vol = unique("keep");
  md_ok({"run", "--rm", "-v", vol + ":/data", "busybox", "sh", "-c", "echo hello > /data/f"});
  EXPECT_EQ(md_ok({"run", "--rm", "-v", vol + ":/data", "busybox", "cat", "/data/f"}), "hello");
}

TEST_F(Volume, PrunePromptsAndRemovesAnonymousThenAll) {
  std::string named = unique("named");
  md_ok({"volume", "create", named});
  md_ok({"run", "--name", unique("anon"), "-v", "/data", "busybox", "sh", "-c", "echo 12345 > /data/f"});
  std::string anon = inspect(unique("anon"))["Mounts"][0]["Name"];
  ASSERT_EQ(anon.size(), 64u);
  // Still used by the (exited) container: nothing to prune.
  EXPECT_EQ(md_ok({"volume", "prune", "-f"}), "Total reclaimed space: 0B");
  md_ok({"rm", unique("anon")});
  // Without -f it asks; "n" keeps everything.
  Out no = md({"volume", "prune"}, "n\n");
  EXPECT_TRUE(no.ok()) << no;
  EXPECT_EQ(no.out,
            "WARNING! This will remove anonymous local volumes not used by at least one container.\n"
            "Are you sure you want to continue? [y/N] ");
  EXPECT_EQ(lines_of(md_ok({"volume", "ls", "-q"})).size(), 2u);
  Out yes = md({"volume", "prune"}, "y\n");
  EXPECT_TRUE(yes.ok()) << yes;
  EXPECT_NE(yes.out.find("Deleted Volumes:\n" + anon + "\n\nTotal reclaimed space: 6B\n"), std::string::npos) << yes;
  EXPECT_EQ(md_ok({"volume", "ls", "-q"}), named);
  // -a: named ones too.
  EXPECT_EQ(md_ok({"volume", "prune", "-a", "-f"}), "Deleted Volumes:\n" + named + "\n\nTotal reclaimed space: 0B");
  EXPECT_EQ(md_ok({"volume", "ls", "-q"}), "");
}

TEST_F(Volume, Errors) {
  Out opt = md({"volume", "create", "-o", "type=tmpfs", "x1"});
  EXPECT_EQ(opt.code, 1);
  EXPECT_NE(opt.err.find("not supported"), std::string::npos) << opt;
  Out bad = md({"volume", "create", "bad/name"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("includes invalid characters for a local volume name"), std::string::npos) << bad;
  Out filter = md({"volume", "ls", "--filter", "color=red"});
  EXPECT_EQ(filter.code, 1);
  EXPECT_EQ(filter.err, "Error response from daemon: invalid filter 'color'\n");
  Out sub = md({"volume", "frobnicate"});
  EXPECT_EQ(sub.code, 1);
}

}  // namespace
}  // namespace mdcli
