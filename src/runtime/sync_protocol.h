// The parent <-> child protocol over the sync socket (SOCK_SEQPACKET, one message per
// send). The declaration order of MessageType is the protocol order for `create`:
//
//   parent                               child (cloned, in its new namespaces)
//   ── write uid/gid maps ──► kGo
//   cgroup.procs, oom_score_adj          setns/unshare, mounts, devices   (in parallel:
//      ──► kCgroupJoined                 ◄ waits here, then unshare(CLONE_NEWCGROUP)
//                                           a v1 migration can wait ~10 ms for RCU)
//                                   ◄──  kRunHooks      (only when createRuntime /
//   run createRuntime + createContainer                   createContainer / prestart hooks)
//      hooks ──► kHooksDone
//                                        pivot_root, masks, caps, seccomp, cwd
//                                   ◄──  kReady
//   run mode: kStart (+ state JSON) ──►  (create mode: `start` connects to start.sock)
//                                        startContainer hooks, execve
//
// Any step may instead answer kError with errno and a message; the child then exits.
#pragma once

#include <cstdint>

namespace md::runtime {

enum class MessageType : int32_t {
  kGo = 1,
  kCgroupJoined,
  kRunHooks,
  kHooksDone,
  kReady,
  kStart,
  kError,
};

// Fixed-size message: the child fills it on its stack, no allocation.
struct SyncMessage {
  MessageType type;
  int32_t errno_value;
  char text[1016];  // NUL-terminated error text, or the start of a state JSON for kStart
};

}  // namespace md::runtime
