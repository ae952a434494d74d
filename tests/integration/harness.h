// Integration-test harness: runs a real OCI runtime binary (minidocker-runtime
// or runc) against private bundles and a private state root, and cleans up
// everything it created even when a test fails.
//
// Configuration (environment):
//   MD_RUNTIME   runtime binary (default: the built minidocker-runtime)
//   MD_ROOTFS    busybox rootfs to copy into bundles (default: <build>/rootfs,
//                built with scripts/build-busybox-rootfs.sh when missing)
//   MD_CHECK     the static md-check binary (default: the built one)
//   MD_RUN_KNOWN_FAILURES=1  do not skip tests marked as known failures of
//                the runtime under test (see KNOWN_FAILURE below)
//   MD_KEEP_TMP=1  keep the per-test temp dir (state, bundles, logs) for debugging
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mdtest {

using json = nlohmann::json;

// ---------------------------------------------------------------- config

struct Config {
  std::string runtime;  // absolute path of the runtime binary
  std::string rootfs;   // base busybox rootfs
  std::string md_check; // md-check binary
  bool run_known_failures = false;
  bool keep_tmp = false;
};
const Config& GetConfig();
// Lower-case basename of the runtime ("runc", "minidocker-runtime", ...).
std::string RuntimeName();
bool RuntimeIs(const std::string& name);

// Skips the current test when the runtime under test is `runtime` and it is
// known not to implement what the test checks. The reason is printed.
#define KNOWN_FAILURE(runtime, reason)                                                    \
  do {                                                                                    \
    if (::mdtest::RuntimeIs(runtime) && !::mdtest::GetConfig().run_known_failures) {      \
      GTEST_SKIP() << "known " << runtime << " failure (MD_RUN_KNOWN_FAILURES=1 runs it): " \
                   << reason;                                                             \
    }                                                                                     \
  } while (0)

// For a single assertion rather than a whole test: true (and the reason is
// printed) when the runtime under test is `runtime`, so the caller skips that
// one check:  if (!KnownGap("runc", "...")) EXPECT_...;
bool KnownGap(const std::string& runtime, const std::string& reason);

// ---------------------------------------------------------------- processes

struct Result {
  int exit_code = -1;  // exit status, or 128+signal when killed by a signal
  bool timed_out = false;
  std::string out, err;
  std::string command;  // for messages
  std::string out_file, err_file;  // where stdout/stderr went (a container
                                   // created by this command writes there too)
  bool ok() const { return exit_code == 0 && !timed_out; }
  // Multi-line description for assertion messages.
  std::string Describe() const;
};
std::ostream& operator<<(std::ostream& os, const Result& r);

struct SpawnOptions {
  std::string stdin_data;             // fed through a file; /dev/null when empty
  std::string stdout_path, stderr_path;  // default: fresh files in the io dir
  // Extra fds the child inherits at exactly these numbers (not CLOEXEC):
  // target fd -> file path opened O_RDWR|O_CREAT.
  std::vector<std::pair<int, std::string>> extra_files;
  // Same for directories (opened O_RDONLY|O_DIRECTORY), e.g. a host dir fd
  // that must not become the container's cwd.
  std::vector<std::pair<int, std::string>> extra_dirs;
  std::vector<std::string> env;       // extra NAME=VALUE
  std::chrono::seconds timeout{60};
};

struct Child {
  pid_t pid = -1;
  int pidfd = -1;
  std::string command, out_path, err_path;
  std::chrono::seconds timeout{60};
};

// ---------------------------------------------------------------- md-check facts

struct Facts {
  std::map<std::string, std::string> kv;
  std::vector<std::pair<std::string, std::string>> lines;
  std::string raw;
  bool has(const std::string& k) const { return kv.count(k) != 0; }
  std::string operator[](const std::string& k) const;  // "<missing>" if absent
  std::vector<std::string> all(const std::string& k) const;
};
Facts ParseFacts(const std::string& out);

// ---------------------------------------------------------------- capabilities

std::vector<std::string> AllCapNames();
uint64_t CapMask(const std::vector<std::string>& names);
std::string CapHex(uint64_t mask);  // 16 hex digits as in /proc/self/status
// Names of the capabilities in the test process's bounding set (what a
// container can get on this host; CAP_SYS_RESOURCE may be missing).
std::vector<std::string> HostCapNames();

// ---------------------------------------------------------------- files

// Reads a file (empty string if missing).
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644);
// Polls (bounded, generous) until path exists.
bool WaitForFile(const std::string& path, std::chrono::seconds bound = std::chrono::seconds(30));

// ---------------------------------------------------------------- small helpers

std::string Trim(const std::string& s);
std::vector<std::string> SplitLines(const std::string& s);  // non-empty lines
std::vector<std::string> SplitCsv(const std::string& s);    // "a,b" -> {a, b}; "" -> {}
std::string Readlink(const std::string& path);
// Single-letter state from /proc/PID/stat ("" if gone).
std::string ProcState(pid_t pid);
// Polls until pid no longer exists or is a zombie.
bool WaitProcessGone(pid_t pid, std::chrono::seconds bound = std::chrono::seconds(30));
// Every cgroup hierarchy mount point (v1 controllers, v2 unified).
std::vector<std::string> CgroupRoots();
// Directory of cgroup_path for a v1 controller (or the v2 tree holding it),
// "" if none exists.
std::string CgroupDir(const std::string& cgroup_path, const std::string& controller);
// Trimmed content of a cgroup file ("<missing>" if absent).
std::string CgroupValue(const std::string& cgroup_path, const std::string& controller, const std::string& file);
bool HostIsCgroupV2Only();

// Adds a mount to a config.
void AddMount(json& config, const std::string& dest, const std::string& type, const std::string& source,
              const std::vector<std::string>& options);

// ---------------------------------------------------------------- bundles

struct Bundle {
  std::string dir;     // bundle directory (config.json lives here)
  std::string rootfs;  // dir + "/rootfs"
  json config;
  void Save() const;  // writes config.json
};

// The default config: what `runc spec` emits (terminal false), plus a unique
// cgroupsPath and MD_TEST_TAG in the environment.
json DefaultConfig();

// ---------------------------------------------------------------- fixture

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A unique container id (recorded for cleanup).
  std::string NewId();
  // A unique cgroupsPath "/minidocker-test-<pid>-<n>" (recorded for cleanup).
  std::string NewCgroupPath();
  // A new bundle with a private copy of the rootfs and /md-check; config is
  // DefaultConfig() with a fresh cgroupsPath. Not yet saved.
  Bundle NewBundle(const std::string& name = "");

  // `RUNTIME --root <state> ARGS...`, waits for it to exit.
  Result Rt(const std::vector<std::string>& args, const SpawnOptions& opts = {});
  Child RtSpawn(const std::vector<std::string>& args, const SpawnOptions& opts = {});
  Result Wait(Child& c);
  // Any command (tagged, tracked for cleanup).
  Child Spawn(const std::vector<std::string>& argv, const SpawnOptions& opts = {});
  Result Exec(const std::vector<std::string>& argv, const SpawnOptions& opts = {});

  // Saves the bundle config and runs `run --bundle B ID` in the foreground.
  Result RunBundle(Bundle& b, const std::string& id = "");
  // Sets process.args = ["/md-check", args...], runs it (bundle_ by default),
  // expects exit 0 and returns the parsed facts.
  Facts Check(const std::vector<std::string>& args);
  Facts Check(Bundle& b, const std::vector<std::string>& args);

  // create --bundle; expects success. Returns the Result of create (its
  // out/err files receive the container's stdout/stderr).
  Result Create(Bundle& b, const std::string& id, std::vector<std::string> extra = {});
  // `state ID` parsed; nullopt if the command fails.
  std::optional<json> State(const std::string& id);
  std::string Status(const std::string& id);  // "" if state fails
  // Polls `state` until status == want (generous bound); returns final status.
  std::string WaitStatus(const std::string& id, const std::string& want,
                         std::chrono::seconds bound = std::chrono::seconds(30));

  // Reaps zombies re-parented to the test process (it is a child subreaper).
  void ReapOrphans();

  // Leftover checks used by the bad-input tests.
  bool StateDirExists(const std::string& id) const;
  std::vector<std::string> CgroupDirsFor(const std::string& cgroup_path) const;
  std::vector<pid_t> TaggedProcesses() const;  // live processes carrying our tag
  void ExpectNothingLeftBehind(const std::string& id, const std::string& cgroup_path);

  // Host namespace inode link (readlink /proc/self/ns/<type>) of the test process.
  static std::string HostNs(const std::string& type);
  // Directory for per-test scratch files visible on the host.
  std::string Scratch(const std::string& name);
  // A scratch dir bind-mounted read-write into the bundle at the same path.
  std::string ShareDir(Bundle& b, const std::string& name);

  std::string tmp_;    // /tmp/md-test-XXXXXX
  std::string state_;  // tmp_/state, passed as --root
  std::string tag_;    // MD_TEST_TAG value, identifies our processes
  Bundle bundle_;      // a default bundle, ready to use

 private:
  void Cleanup();
  std::vector<std::string> ids_;
  std::vector<std::string> cgroups_;
  std::vector<pid_t> children_;
  int io_counter_ = 0;
};

}  // namespace mdtest
