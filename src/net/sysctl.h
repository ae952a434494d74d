// Kernel parameters under /proc/sys.
//
// Keys are paths below /proc/sys ("net/ipv4/ip_forward"); the dotted form
// ("net.ipv4.ip_forward") is accepted when the key has no '/', as sysctl(8) does. Use
// the slash form when a component contains a dot (an interface such as "eth0.100").
//
// /proc/sys/net/* shows the network namespace of the *calling thread* when the file
// is opened (not the main thread's, not a socket's): enter the namespace first
// (NetnsEnter) to change another namespace's settings.
#pragma once

#include <string>

#include "base/result.h"

namespace md::net {

// Errors name the key: "set sysctl net/ipv4/ip_forward: open /proc/sys/...: ...".
Status write_sysctl(const std::string& key, const std::string& value);
// The value without its trailing newline.
Result<std::string> read_sysctl(const std::string& key);
// Sets net.ipv4.ip_forward to 1 unless it already is: writing it, even the same value,
// resets every interface's forwarding setting (and disables LRO on them).
Status ensure_ip_forward();

}  // namespace md::net
