// Harness for the `minidocker` CLI tests: every test gets its own --root (a private tmpfs
// under /tmp/mdc-XXXXXX, short enough for unix socket paths) with the busybox image
// imported, runs the real CLI binary, and cleans up containers, monitors, mounts and
// cgroups in TearDown even when the test failed.
//
// Networking: each root gets a <root>/daemon.json of its own — default bridge "mdt" + 6 hex
// digits of the root's hash, bip "10.201.<n>.1/24" with an n no host address uses, user
// networks from 10.202.0.0/16 — so tests never touch the host's or the user's networks.
// TearDown removes the root's networks, bridges, nftables table and DNS servers.
//
// Environment: MD_CLI (default: the built minidocker), MD_ROOTFS (busybox rootfs dir),
// MD_KEEP_TMP=1 keeps the root for debugging (containers are still removed).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mdcli {

using json = nlohmann::json;

struct Out {
  int code = -1;
  std::string out, err;
  std::string cmd;
  bool ok() const { return code == 0; }
};
std::ostream& operator<<(std::ostream& os, const Out& r);

// Runs argv (argv[0] resolved through PATH unless absolute) with `input` on stdin,
// capturing stdout/stderr; killed after `timeout`.
Out run_process(const std::vector<std::string>& argv, const std::string& input = "",
                std::chrono::seconds timeout = std::chrono::seconds(120));

// Waits until `cond` is true (checked every 20 ms) or `limit` passes. Returns cond().
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = std::chrono::seconds(30));

// A file's text without its trailing newlines ("" when unreadable).
std::string read_text(const std::string& path);
// Non-empty lines of `s`.
std::vector<std::string> lines_of(const std::string& s);
// A container's cgroup file: `v1` under the v1 `controller` hierarchy when that exists,
// else `v2` in the unified one (this host is hybrid; either layout works).
std::string cgroup_file(const std::string& id, const std::string& controller, const std::string& v1,
                        const std::string& v2);

std::string cli_binary();
std::string busybox_tar();  // the busybox rootfs as a tar, built once per process

class Cli : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // `minidocker --root <root> args...`
  Out md(std::vector<std::string> args, const std::string& input = "",
         std::chrono::seconds timeout = std::chrono::seconds(120));
  // md(...) that must succeed; returns stdout without the trailing newline.
  std::string md_ok(std::vector<std::string> args, const std::string& input = "");
  json inspect(const std::string& ref);
  std::string state(const std::string& ref);  // .State.Status
  // A name unique to this test.
  std::string unique(const std::string& base);
  // TearDown's network part (after the containers are gone): networks, bridges, the
  // nftables table and DNS servers of this root.
  void teardown_networks();

  // The root's default bridge device ("mdt1a2b3c") and subnet ("10.201.7.0/24"), and its
  // nftables table (engine/core/network_config.cc: "minidocker_" + FNV-1a of the root).
  std::string bridge_, bridge_subnet_, nft_table_;

  std::string root_;
  bool skip_ = false;
};

}  // namespace mdcli
