// The image endpoints and /system/df of `minidocker serve` (docs/api-images.md), judged by
// the real docker CLI (/usr/local/bin/docker) and python3-docker against a server on a
// socket in the test's root.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "serve_client.h"

namespace mdcli {
namespace {


// One HTTP/1.1 request over a unix socket with "Connection: close"; the whole answer.
std::string raw_request(const std::string& sock, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    for (size_t off = 0; off < request.size();) {
      ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += size_t(n);
    }
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    while (::poll(&p, 1, 10000) > 0) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, size_t(n));
    }
  }
  ::close(fd);
  return out;
}

std::string get(const std::string& sock, const std::string& path) {
  return raw_request(sock, "GET " + path + " HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n");
}
std::string body_of(const std::string& answer) {
  auto at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ServeImage : public serve_client::ServeFixture {
 protected:
  bool needs_docker() override { return true; }
  // A shell pipeline with DOCKER_HOST pointing at the server.
  Out shell(const std::string& script) {
    return run_process({"env", "DOCKER_CONFIG=" + config_, "DOCKER_HOST=unix://" + sock_, "sh", "-c", script}, "",
                       std::chrono::seconds(120));
  }
};

TEST_F(ServeImage, ListInspectHistoryAndTagsWithSlashes) {
  std::string id = docker_ok({"image", "inspect", "-f", "{{.Id}}", "busybox"});
  ASSERT_EQ(id.rfind("sha256:", 0), 0u) << id;
  EXPECT_EQ(docker_ok({"image", "inspect", "-f", "{{.Config.Cmd}} {{.RootFS.Type}} {{.Os}}", "busybox"}), "[sh] layers linux");
  EXPECT_EQ(docker_ok({"images", "--format", "{{.Repository}}:{{.Tag}}"}), "busybox:latest");

  // Names with a registry port and slashes reach the right image through every route.
  std::string deep = "localhost:5000/team/app:v1";
  ASSERT_TRUE(docker({"tag", "busybox", deep}).ok());
  EXPECT_EQ(docker_ok({"image", "inspect", "-f", "{{.Id}} {{len .RepoTags}}", deep}), id + " 2");
  EXPECT_EQ(docker_ok({"images", "--format", "{{.Repository}}", "localhost:5000/team/app"}), "localhost:5000/team/app");
  Out hist = docker({"history", "--format", "{{.ID}}|{{.CreatedBy}}", deep});
  ASSERT_TRUE(hist.ok()) << hist;
  EXPECT_EQ(lines_of(hist.out).front().substr(0, 12), id.substr(7, 12)) << hist;

  // Filters: reference patterns, dangling, label; a bad key is a 400.
  EXPECT_EQ(docker_ok({"images", "--filter", "reference=busy*", "--format", "{{.Repository}}"}), "busybox");
  EXPECT_EQ(docker_ok({"images", "-q", "--filter", "dangling=true"}), "");
  EXPECT_EQ(docker_ok({"images", "-q", "--filter", "label=nosuch"}), "");
  Out bad = docker({"images", "--filter", "color=red"});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.err.find("invalid filter 'color'"), std::string::npos) << bad;

  // rmi of one of two tags only untags.
  Out rmi = docker({"rmi", deep});
  ASSERT_TRUE(rmi.ok()) << rmi;
  EXPECT_EQ(rmi.out, "Untagged: " + deep + "\n");
  EXPECT_EQ(docker_ok({"images", "-q", "--no-trunc"}), id);

  // Unknown image: Docker's 404 text.
  std::string r = get(sock_, "/v1.43/images/nosuch:1/json");
  EXPECT_NE(r.find("HTTP/1.1 404"), std::string::npos) << r;
  EXPECT_EQ(json::parse(body_of(r))["message"], "No such image: nosuch:1") << r;
  Out missing = docker({"image", "inspect", "nosuch"});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.err.find("No such image: nosuch"), std::string::npos) << missing;
}

TEST_F(ServeImage, SaveRemoveLoadRoundTrip) {
  std::string id = docker_ok({"image", "inspect", "-f", "{{.Id}}", "busybox"});
  std::string tar = root_ + "/busybox-save.tar";
  Out save = docker({"save", "-o", tar, "busybox"});
  ASSERT_TRUE(save.ok()) << save;
  std::string bytes = file_bytes(tar);
  ASSERT_GT(bytes.size(), 10240u);
  EXPECT_NE(bytes.find("manifest.json"), std::string::npos);

  Out rmi = docker({"rmi", "busybox"});
  ASSERT_TRUE(rmi.ok()) << rmi;
  EXPECT_NE(rmi.out.find("Deleted: " + id), std::string::npos) << rmi;
  EXPECT_EQ(docker_ok({"images", "-q"}), "");

  Out load = docker({"load", "-i", tar});
  ASSERT_TRUE(load.ok()) << load;
  EXPECT_NE(load.out.find("Loaded image: busybox:latest"), std::string::npos) << load;
  // The same image id back: the layers were reproduced byte for byte.
  EXPECT_EQ(docker_ok({"image", "inspect", "-f", "{{.Id}}", "busybox"}), id);

  // A pipe: save | load of the image under another name.
  ASSERT_TRUE(docker({"tag", "busybox", "copy/of:it"}).ok());
  Out pipe = shell(std::string(serve_client::kDockerCli) + " save copy/of:it | " + serve_client::kDockerCli + " load");
  ASSERT_TRUE(pipe.ok()) << pipe;
  EXPECT_NE(pipe.out.find("Loaded image: copy/of:it"), std::string::npos) << pipe;

  // A body that is not an archive: a 4xx, and no image appears.
  Out junk = docker({"load"}, "this is not a tar archive at all");
  EXPECT_FALSE(junk.ok()) << junk;
  EXPECT_EQ(lines_of(docker_ok({"images", "--format", "{{.Repository}}"})).size(), 2u);  // busybox, copy/of
  // Saving an unknown image: 404, nothing written.
  Out nosave = docker({"save", "-o", root_ + "/none.tar", "nosuch"});
  EXPECT_FALSE(nosave.ok());
  EXPECT_NE(nosave.err.find("No such image: nosuch"), std::string::npos) << nosave;
  EXPECT_NE(::access((root_ + "/none.tar").c_str(), F_OK), 0);
}

TEST_F(ServeImage, ImportCommitAndRunTheResult) {
  std::string tarball = file_bytes(busybox_tar());
  ASSERT_FALSE(tarball.empty());
  Out imp = docker({"import", "-c", "CMD [\"echo\", \"imported\"]", "-m", "from a test", "-", "myimg:1"}, tarball);
  ASSERT_TRUE(imp.ok()) << imp;
  EXPECT_EQ(imp.out.rfind("sha256:", 0), 0u) << imp;
  EXPECT_EQ(docker_ok({"image", "inspect", "-f", "{{.Config.Cmd}}|{{.Comment}}", "myimg:1"}), "[echo imported]|from a test");
  // since=/before= order images by creation; a label filter sees the config's labels.
  Out labelled = docker({"import", "-c", "LABEL team=blue", "-", "labelled:1"}, tarball);
  ASSERT_TRUE(labelled.ok()) << labelled;
  EXPECT_EQ(docker_ok({"images", "--filter", "since=busybox", "--format", "{{.Repository}}"}), "labelled\nmyimg");
  EXPECT_EQ(docker_ok({"images", "--filter", "before=myimg:1", "--format", "{{.Repository}}"}), "busybox");
  EXPECT_EQ(docker_ok({"images", "--filter", "label=team=blue", "--format", "{{.Repository}}"}), "labelled");
  // Not an archive: 400, nothing added.
  Out junk = docker({"import", "-", "junk:1"}, std::string(4096, 'x'));
  EXPECT_FALSE(junk.ok()) << junk;
  EXPECT_FALSE(docker({"image", "inspect", "junk:1"}).ok());

  std::string name = unique("commit");
  ASSERT_TRUE(docker({"run", "-d", "--name", name, "myimg:1", "sh", "-c", "echo committed > /marker; exec sleep 100"}).ok());
  ASSERT_TRUE(eventually([&] { return md({"exec", name, "cat", "/marker"}).out == "committed\n"; }));
  Out commit = docker({"commit", "-m", "with marker", "-a", "tester", name, "withmarker:v2"});
  ASSERT_TRUE(commit.ok()) << commit;
  EXPECT_EQ(commit.out.rfind("sha256:", 0), 0u) << commit;
  EXPECT_EQ(state(name), "running");  // paused for the commit, running again
  EXPECT_EQ(docker_ok({"image", "inspect", "-f", "{{.Comment}}|{{.Author}}|{{len .RootFS.Layers}}", "withmarker:v2"}),
            "with marker|tester|2");

  std::string reader = unique("reader");
  ASSERT_TRUE(docker({"run", "-d", "--name", reader, "withmarker:v2", "cat", "/marker"}).ok());
  ASSERT_TRUE(eventually([&] { return state(reader) == "exited"; }));
  EXPECT_EQ(docker_ok({"logs", reader}), "committed");

  // Bad input: an unknown container is a 404, nothing is created.
  std::string r = raw_request(sock_, "POST /v1.43/commit?container=nosuch&repo=x HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
                                     "Content-Length: 0\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 404"), std::string::npos) << r;
  EXPECT_FALSE(docker({"image", "inspect", "x"}).ok());
}

TEST_F(ServeImage, RemoveConflictsAndPrune) {
  ASSERT_TRUE(docker({"tag", "busybox", "spare:1"}).ok());
  std::string name = unique("user");
  ASSERT_TRUE(docker({"create", "--name", name, "spare:1", "true"}).ok());
  // busybox:latest names the same image, which a container uses: deleting it by id
  // needs force (several tags) and is refused while a container uses it.
  std::string id = docker_ok({"image", "inspect", "-f", "{{.Id}}", "busybox"});
  std::string r = raw_request(sock_, "DELETE /v1.43/images/" + id + " HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 409"), std::string::npos) << r;
  ASSERT_TRUE(docker({"rm", name}).ok());

  // A dangling image (an import without a name) goes with prune; tagged ones stay.
  Out imp = docker({"import", "-"}, file_bytes(busybox_tar()));
  ASSERT_TRUE(imp.ok()) << imp;
  std::string dangling = imp.out.substr(0, imp.out.find('\n'));
  EXPECT_EQ(docker_ok({"images", "-q", "--no-trunc", "--filter", "dangling=true"}), dangling);
  Out prune = docker({"image", "prune", "-f"});
  ASSERT_TRUE(prune.ok()) << prune;
  EXPECT_NE(prune.out.find("deleted: " + dangling), std::string::npos) << prune;
  EXPECT_EQ(docker_ok({"images", "-q", "--filter", "dangling=true"}), "");
  EXPECT_EQ(lines_of(docker_ok({"images", "--format", "{{.Repository}}"})).size(), 2u);
}

TEST_F(ServeImage, PullFindsLocalImagesOnly) {
  Out pull = docker({"pull", "busybox"});
  ASSERT_TRUE(pull.ok()) << pull;
  EXPECT_NE(pull.out.find("Image is up to date for busybox:latest"), std::string::npos) << pull;
  Out missing = docker({"pull", "nosuch/thing:2"});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.err.find("no registry client"), std::string::npos) << missing;
  Out push = docker({"push", "busybox"});
  EXPECT_FALSE(push.ok());
  EXPECT_NE(push.err.find("not supported"), std::string::npos) << push;
  Out search = docker({"search", "busybox"});
  EXPECT_FALSE(search.ok());
  EXPECT_NE(search.err.find("not supported"), std::string::npos) << search;
}

TEST_F(ServeImage, SystemDfCountsImagesContainersVolumes) {
  std::string vol = unique("dfvol");
  ASSERT_TRUE(docker({"volume", "create", vol}).ok() || md({"volume", "create", vol}).ok());
  std::string name = unique("df");
  ASSERT_TRUE(md({"create", "--name", name, "-v", vol + ":/data", "busybox", "true"}).ok());
  Out df = docker({"system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"});
  ASSERT_TRUE(df.ok()) << df;
  auto rows = lines_of(df.out);
  ASSERT_GE(rows.size(), 3u) << df;
  EXPECT_EQ(rows[0], "Images 1 1") << df;
  EXPECT_EQ(rows[1], "Containers 1 0") << df;
  EXPECT_EQ(rows[2], "Local Volumes 1 1") << df;
  Out v = docker({"system", "df", "-v"});
  ASSERT_TRUE(v.ok()) << v;
  EXPECT_NE(v.out.find(name), std::string::npos) << v;
  EXPECT_NE(v.out.find(vol), std::string::npos) << v;
  json j = json::parse(body_of(get(sock_, "/v1.43/system/df")));
  EXPECT_GT(j["LayersSize"].get<int64_t>(), 0) << j;
  EXPECT_EQ(j["Images"][0]["Containers"], 1) << j;
}

TEST_F(ServeImage, PythonDockerImages) {
  if (run_process({"/usr/bin/python3", "-c", "import docker"}).code != 0) GTEST_SKIP() << "python3-docker not installed";
  std::string tar = root_ + "/py.tar";
  std::string script = R"PY(
import sys, docker
c = docker.DockerClient(base_url='unix://' + sys.argv[1], version='1.43')
imgs = c.images.list()
assert [t for i in imgs for t in i.tags] == ['busybox:latest'], imgs
img = c.images.get('busybox')
assert img.tags == ['busybox:latest'] and img.id.startswith('sha256:'), img
assert img.tag('py/repo', 'x') is True
assert sorted(c.images.get('py/repo:x').tags) == ['busybox:latest', 'py/repo:x']
with open(sys.argv[2], 'wb') as f:
    for chunk in img.save(named=True):
        f.write(chunk)
c.images.remove('py/repo:x')
c.images.remove('busybox', force=True)
assert c.images.list() == []
with open(sys.argv[2], 'rb') as f:
    loaded = c.images.load(f.read())
assert [i.id for i in loaded] == [img.id], loaded
print(c.images.get('busybox').id)
)PY";
  Out py = run_process({"/usr/bin/python3", "-c", script, sock_, tar});
  ASSERT_TRUE(py.ok()) << py;
  EXPECT_EQ(py.out, docker_ok({"image", "inspect", "-f", "{{.Id}}", "busybox"}) + "\n");
}

}  // namespace
}  // namespace mdcli
