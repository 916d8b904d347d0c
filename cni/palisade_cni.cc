// palisade_cni.cc: the `palisade` CNI plugin, a thin chained shim (CNI spec 1.0 / 1.1).
//
// What: placed after `ptp` or `bridge` in a conflist. It does not parse policy or program the
// kernel; it forwards each invocation (CNI_* environment + the network configuration from stdin,
// which carries `prevResult`) to the node agent over a unix socket and relays the agent's answer
// (exit code + stdout). The agent answers ADD only once the pod's policy is in the kernel, so the
// pod's first packet is judged by it (src/agent/cni/server.ts).
//
// Why C++ and not Node: the runtime starts the plugin once per pod per command; a bare Node start
// costs ~0.1 s and ~40 MB, this costs about a millisecond and well under 5 MB (bench/cni.bench.mjs).
//
// Behaviour without the agent:
//   VERSION  answered here, no agent needed.
//   DEL      queued as a file in the queue directory (default /run/palisade/cni-queue) and
//            reported as success: a DEL must succeed even when the agent is down; the agent
//            replays the queue when it starts.
//   ADD/CHECK/STATUS/GC  an error result (code 11, "try again later") unless the network
//            configuration says `"onAgentDown": "pass"`, in which case ADD echoes prevResult.
// Configuration keys read here (top level of the network configuration): `socket` (default
// /run/palisade/cni.sock), `queueDir`, `timeoutMs` (default 10000, the longest wait for the
// agent), `onAgentDown` ("fail" default, or "pass"). The agent applies `onTimeout` itself.
//
// Wire format to the agent (one request per connection): the request is one JSON object
//   {"command":..,"containerId":..,"netns":..,"ifname":..,"args":..,"path":..,"config":<stdin>}
// followed by a shutdown of the write side; the reply is "<exit code>\n<stdout bytes>".
// Security: no shell; strings from the environment are JSON-escaped; the config is forwarded as
// the runtime gave it (the agent parses and validates it).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr const char* kSupportedVersions = R"({"cniVersion":"1.1.0","supportedVersions":["0.4.0","1.0.0","1.1.0"]})";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string readAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool writeAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string jsonString(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

// The raw text of a TOP-LEVEL member's value in a JSON object (string, number, object, ...), or
// empty when absent. A scanner, not a parser: it tracks depth and strings so that a key nested in
// prevResult or ipam is never taken for a top-level one.
std::string topLevelValue(const std::string& j, const std::string& key) {
  size_t i = 0;
  int depth = 0;
  const size_t n = j.size();
  auto skipString = [&](size_t p) {  // p at the opening quote; returns index after the closing quote
    for (++p; p < n; ++p) {
      if (j[p] == '\\') ++p;
      else if (j[p] == '"') return p + 1;
    }
    return n;
  };
  while (i < n) {
    char c = j[i];
    if (c == '"') {
      size_t end = skipString(i);
      if (depth == 1) {
        std::string k = j.substr(i + 1, end - i - 2);
        size_t p = end;
        while (p < n && std::isspace(static_cast<unsigned char>(j[p]))) ++p;
        if (p < n && j[p] == ':') {
          ++p;
          while (p < n && std::isspace(static_cast<unsigned char>(j[p]))) ++p;
          size_t start = p;
          if (p < n && j[p] == '"') {
            p = skipString(p);
          } else if (p < n && (j[p] == '{' || j[p] == '[')) {
            int d = 0;
            while (p < n) {
              if (j[p] == '"') { p = skipString(p); continue; }
              if (j[p] == '{' || j[p] == '[') ++d;
              if (j[p] == '}' || j[p] == ']') { if (--d == 0) { ++p; break; } }
              ++p;
            }
          } else {
            while (p < n && j[p] != ',' && j[p] != '}' && !std::isspace(static_cast<unsigned char>(j[p]))) ++p;
          }
          if (k == key) return j.substr(start, p - start);
          i = p;
          continue;
        }
      }
      i = end;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') --depth;
    ++i;
  }
  return std::string();
}

std::string unquote(const std::string& v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

int errorResult(const std::string& cniVersion, int code, const std::string& msg, const std::string& details) {
  std::string o = "{\"cniVersion\":" + jsonString(cniVersion.empty() ? "1.0.0" : cniVersion) + ",\"code\":" + std::to_string(code) +
                  ",\"msg\":" + jsonString(msg) + ",\"details\":" + jsonString(details) + "}\n";
  writeAll(1, o);
  return 1;
}

long nowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

// Connects, sends, waits (bounded by timeoutMs overall). Returns false when the agent is not
// reachable or did not answer in time; `reply` then holds the reason.
bool askAgent(const std::string& socketPath, const std::string& request, long timeoutMs, std::string& reply) {
  const long deadline = nowMs() + timeoutMs;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { reply = std::string("socket: ") + std::strerror(errno); return false; }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof addr.sun_path) { close(fd); reply = "socket path too long"; return false; }
  std::memcpy(addr.sun_path, socketPath.c_str(), socketPath.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    reply = "connect " + socketPath + ": " + std::strerror(errno);
    close(fd);
    return false;
  }
  if (!writeAll(fd, request) || shutdown(fd, SHUT_WR) != 0) { reply = std::string("send: ") + std::strerror(errno); close(fd); return false; }
  std::string out;
  char buf[65536];
  for (;;) {
    long left = deadline - nowMs();
    if (left <= 0) { reply = "no answer from the agent within " + std::to_string(timeoutMs) + " ms"; close(fd); return false; }
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { reply = std::string("read: ") + std::strerror(errno); close(fd); return false; }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  reply = out;
  return true;
}

// DEL while the agent is down: one file per container (the latest request wins), written
// atomically (temporary name, then rename) so a replay never reads half a request.
bool queueRequest(const std::string& dir, const std::string& containerId, const std::string& request) {
  mkdir(dir.c_str(), 0700);
  std::string safe;
  for (char c : containerId) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (safe.empty()) safe = "unknown";
  std::string path = dir + "/" + safe + ".json";
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = writeAll(fd, request) && fsync(fd) == 0;
  close(fd);
  return ok && rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main() {
  const std::string command = env("CNI_COMMAND");
  if (command == "VERSION") {
    writeAll(1, std::string(kSupportedVersions) + "\n");
    return 0;
  }
  const std::string config = readAll(0);
  const std::string cniVersion = unquote(topLevelValue(config, "cniVersion"));
  if (command.empty()) return errorResult(cniVersion, 4, "CNI_COMMAND is not set", "run by a container runtime");
  std::string socketPath = unquote(topLevelValue(config, "socket"));
  if (socketPath.empty()) socketPath = "/run/palisade/cni.sock";
  std::string queueDir = unquote(topLevelValue(config, "queueDir"));
  if (queueDir.empty()) queueDir = "/run/palisade/cni-queue";
  long timeoutMs = 10000;
  if (std::string t = topLevelValue(config, "timeoutMs"); !t.empty()) timeoutMs = std::strtol(t.c_str(), nullptr, 10);
  if (timeoutMs <= 0) timeoutMs = 10000;
  const bool passWhenDown = unquote(topLevelValue(config, "onAgentDown")) == "pass";

  const std::string request = "{\"command\":" + jsonString(command) + ",\"containerId\":" + jsonString(env("CNI_CONTAINERID")) +
                              ",\"netns\":" + jsonString(env("CNI_NETNS")) + ",\"ifname\":" + jsonString(env("CNI_IFNAME")) +
                              ",\"args\":" + jsonString(env("CNI_ARGS")) + ",\"path\":" + jsonString(env("CNI_PATH")) +
                              ",\"config\":" + (config.empty() ? std::string("null") : config) + "}";
  std::string reply;
  if (!askAgent(socketPath, request, timeoutMs, reply)) {
    if (command == "DEL") {
      if (queueRequest(queueDir, env("CNI_CONTAINERID"), request)) return 0;
      return errorResult(cniVersion, 11, "agent unreachable and the DEL could not be queued", reply + "; queue " + queueDir + ": " + std::strerror(errno));
    }
    if (command == "ADD" && passWhenDown) {
      std::string prev = topLevelValue(config, "prevResult");
      writeAll(1, (prev.empty() ? std::string("{}") : prev) + "\n");
      return 0;
    }
    return errorResult(cniVersion, 11, "the palisade agent is not available", reply);
  }
  size_t nl = reply.find('\n');
  if (nl == std::string::npos) return errorResult(cniVersion, 999, "malformed answer from the palisade agent", reply.substr(0, 200));
  int code = std::atoi(reply.substr(0, nl).c_str());
  writeAll(1, reply.substr(nl + 1));
  return code;
}
