// Where the engine keeps things. Two roots, as Podman has (--root / --runroot):
//
//   root     (--root, MINIDOCKER_ROOT, default /var/lib/minidocker): what survives a reboot
//     minidocker.db                 SQLite state (containers, images; docs/state.md)
//     locks/<id>.lock               per-container flock
//     image/layers/<hex>/           unpacked image layers (overlayfs lowerdirs)
//     containers/<id>/              diff/ work/ merged/ (overlay), config.json (the OCI
//                                   bundle), hostname, hosts, resolv.conf, <id>-json.log
//     volumes/<name>/_data          named volumes
//     events.log                    Docker-shaped events, one JSON line each
//     daemon.json                   optional: default bridge, subnet, address pools, DNS
//     network.lock                  flock for bridges, nftables and DNS files
//   run root (--runroot, MINIDOCKER_RUNROOT; /run/minidocker for the default root, else
//            <root>/run): what must not survive a reboot
//     runtime/                      the runtime library's state (its --root)
//     <id>/                         the monitor's: status.json, exit.json, monitor.pid,
//                                   attach.sock, control socket, stopped (stop marker)
//     netns/<id>                    the container's pinned network namespace (bridge networks)
//     dns/<network id>.{hosts,pid,log}  the network's DNS server: its names, pid and log
//
// Socket paths must fit sun_path (108 bytes): keep custom roots short (≤ ~20 characters).
#pragma once

#include <string>
#include <string_view>

namespace md::engine {

inline constexpr const char* kDefaultRoot = "/var/lib/minidocker";
inline constexpr const char* kDefaultRunRoot = "/run/minidocker";

struct Paths {
  std::string root;
  std::string run_root;

  // Fills the defaults: empty root → $MINIDOCKER_ROOT or kDefaultRoot; empty run_root →
  // $MINIDOCKER_RUNROOT, else kDefaultRunRoot for the default root, else <root>/run.
  // Relative paths are made absolute.
  static Paths resolve(std::string root, std::string run_root);

  std::string db() const { return root + "/minidocker.db"; }
  std::string layers() const { return root + "/image/layers"; }
  std::string layer(std::string_view diff_id) const;  // "sha256:<hex>" or "<hex>"
  std::string container_dir(std::string_view id) const { return root + "/containers/" + std::string(id); }
  std::string upper(std::string_view id) const { return container_dir(id) + "/diff"; }
  std::string work(std::string_view id) const { return container_dir(id) + "/work"; }
  std::string merged(std::string_view id) const { return container_dir(id) + "/merged"; }
  std::string log_file(std::string_view id) const {
    return container_dir(id) + "/" + std::string(id) + "-json.log";
  }
  std::string volumes() const { return root + "/volumes"; }
  std::string volume_data(std::string_view name) const { return volumes() + "/" + std::string(name) + "/_data"; }
  std::string events_file() const { return root + "/events.log"; }
  std::string tmp() const { return root + "/tmp"; }

  std::string runtime_root() const { return run_root + "/runtime"; }
  std::string monitor_dir(std::string_view id) const { return run_root + "/" + std::string(id); }
  std::string status_file(std::string_view id) const { return monitor_dir(id) + "/status.json"; }
  std::string exit_file(std::string_view id) const { return monitor_dir(id) + "/exit.json"; }
  std::string monitor_pid_file(std::string_view id) const { return monitor_dir(id) + "/monitor.pid"; }
  std::string attach_socket(std::string_view id) const { return monitor_dir(id) + "/attach.sock"; }
  std::string control_socket(std::string_view id) const { return monitor_dir(id) + "/ctl.sock"; }
  std::string stop_marker(std::string_view id) const { return monitor_dir(id) + "/stopped"; }

  // Networking (docs/networking.md).
  std::string daemon_config() const { return root + "/daemon.json"; }      // bridge, bip, pools, dns
  std::string network_lock() const { return root + "/network.lock"; }      // flock: bridges, nft, DNS files
  std::string netns_dir() const { return run_root + "/netns"; }
  std::string netns_file(std::string_view id) const { return netns_dir() + "/" + std::string(id); }  // pinned netns
  std::string dns_dir() const { return run_root + "/dns"; }
  std::string dns_hosts(std::string_view network_id) const { return dns_dir() + "/" + std::string(network_id) + ".hosts"; }
  std::string dns_pid(std::string_view network_id) const { return dns_dir() + "/" + std::string(network_id) + ".pid"; }
};

}  // namespace md::engine
