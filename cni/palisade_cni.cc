// palisade_cni.cc: the `palisade` CNI plugin, a thin chained shim (CNI spec 1.0 / 1.1).
//
// What: placed after `ptp` or `bridge` in a conflist. It does not parse policy or program the
// kernel; it forwards each invocation (CNI_* environment + the network configuration from stdin,
// which carries `prevResult`) to the node agent over a unix socket and relays the agent's answer
// (exit code + stdout). The agent answers ADD only once the pod's policy is in the kernel, so the
// pod's first packet is judged by it (src/agent/cni/server.ts).
//
// Why C++ and not Node: the runtime starts the plugin once per pod per command; a bare Node start
// costs ~0.1 s and ~40 MB, this ~2 ms and ~3 MB (bench/cni.bench.mjs, bench/RESULTS.md).
//
// Checked here, before the agent is asked (so the answer is the same whether it is up or not):
//   - CNI_COMMAND is one of ADD DEL CHECK VERSION STATUS GC (else error 4);
//   - the variables the spec requires per command are set (ADD/CHECK: CNI_CONTAINERID, CNI_NETNS,
//     CNI_IFNAME; DEL: CNI_CONTAINERID, CNI_IFNAME) (else error 4);
//   - stdin is one well-formed JSON object (else error 6, naming the byte offset);
//   - its cniVersion is one this plugin supports (else error 1).
// VERSION is answered here: {"cniVersion": <the version on stdin, if any>, "supportedVersions"}.
//
// Behaviour without an answer from the agent. Two cases: the agent is DOWN (the socket does not
// exist or refuses, or the connection closes with no answer) or it TIMED OUT (connected, no
// answer within timeoutMs). A config key picks pass or fail for each: `onAgentDown` and
// `onTimeout` ("fail", the default, or "pass").
//   DEL          always success: queued as a file in queueDir (default /run/palisade/cni-queue),
//                one per container and interface, replayed by the agent when it starts.
//   ADD          fail: error 11 ("try again later"); pass: echo prevResult (the pod runs unpoliced
//                until the agent catches up).
//   CHECK, GC    fail: error 11; pass: success.
//   STATUS       fail: error 50 ("plugin not available"); pass: success (ADDs will succeed).
// Configuration keys read here (top level of the network configuration): `socket` (default
// /run/palisade/cni.sock), `queueDir`, `timeoutMs` (default 10000, the longest wait for the
// agent's answer; the agent bounds its own wait below it), `onAgentDown`, `onTimeout`.
//
// Wire format to the agent (one request per connection): the request is one JSON object
//   {"command":..,"containerId":..,"netns":..,"ifname":..,"args":..,"path":..,"config":"<stdin>"}
// (the configuration as a JSON string, exactly as the runtime gave it) followed by a shutdown of
// the write side; the reply is "<exit code>\n<stdout bytes>".
// Security: no shell; strings from the environment are JSON-escaped; SIGPIPE is ignored so a
// vanished agent is an error result, never a silent death.
// Cost: one connect + one read of the answer; no allocation beyond the request and the reply.
// Thread-safety: single-threaded process.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char* const kVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
constexpr const char* kLatest = "1.1.0";

// The CNI spec's error codes (its "Error" section).
constexpr int kErrIncompatibleVersion = 1;
constexpr int kErrInvalidEnv = 4;
constexpr int kErrIo = 5;
constexpr int kErrDecode = 6;
constexpr int kErrTryAgain = 11;
constexpr int kErrNotAvailable = 50;
// plugin-specific (>= 100): the agent's answer could not be read
constexpr int kErrBadAnswer = 100;

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

// A strict RFC 8259 well-formedness check (no values are built). Returns an empty string when
// `j` is one JSON object (surrounding whitespace allowed), else what is wrong and where.
class JsonCheck {
 public:
  explicit JsonCheck(const std::string& j) : j_(j) {}
  std::string run() {
    ws();
    if (p_ >= j_.size() || j_[p_] != '{') return fail("expected a JSON object");
    if (!value(0)) return err_;
    ws();
    if (p_ != j_.size()) return fail("unexpected text after the object");
    return std::string();
  }

 private:
  const std::string& j_;
  size_t p_ = 0;
  std::string err_;

  std::string fail(const char* what) {
    if (err_.empty()) err_ = std::string(what) + " at byte " + std::to_string(p_);
    return err_;
  }
  bool bad(const char* what) {
    fail(what);
    return false;
  }
  void ws() {
    while (p_ < j_.size() && (j_[p_] == ' ' || j_[p_] == '\t' || j_[p_] == '\n' || j_[p_] == '\r')) ++p_;
  }
  bool lit(const char* word) {
    size_t n = std::strlen(word);
    if (j_.compare(p_, n, word) != 0) return bad("invalid literal");
    p_ += n;
    return true;
  }
  bool str() {
    ++p_;  // opening quote
    while (p_ < j_.size()) {
      unsigned char c = static_cast<unsigned char>(j_[p_]);
      if (c == '"') { ++p_; return true; }
      if (c < 0x20) return bad("control character in a string");
      if (c == '\\') {
        if (++p_ >= j_.size()) break;
        char e = j_[p_];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (++p_ >= j_.size() || !std::isxdigit(static_cast<unsigned char>(j_[p_]))) return bad("invalid \\u escape");
          }
        } else if (!std::strchr("\"\\/bfnrt", e)) {
          return bad("invalid escape in a string");
        }
      }
      ++p_;
    }
    return bad("unterminated string");
  }
  bool num() {
    size_t s = p_;
    if (j_[p_] == '-') ++p_;
    if (p_ < j_.size() && j_[p_] == '0') ++p_;
    else if (p_ < j_.size() && j_[p_] >= '1' && j_[p_] <= '9') while (p_ < j_.size() && std::isdigit(static_cast<unsigned char>(j_[p_]))) ++p_;
    else return bad("invalid number");
    if (p_ < j_.size() && j_[p_] == '.') {
      ++p_;
      if (p_ >= j_.size() || !std::isdigit(static_cast<unsigned char>(j_[p_]))) return bad("invalid number");
      while (p_ < j_.size() && std::isdigit(static_cast<unsigned char>(j_[p_]))) ++p_;
    }
    if (p_ < j_.size() && (j_[p_] == 'e' || j_[p_] == 'E')) {
      ++p_;
      if (p_ < j_.size() && (j_[p_] == '+' || j_[p_] == '-')) ++p_;
      if (p_ >= j_.size() || !std::isdigit(static_cast<unsigned char>(j_[p_]))) return bad("invalid number");
      while (p_ < j_.size() && std::isdigit(static_cast<unsigned char>(j_[p_]))) ++p_;
    }
    return p_ > s;
  }
  bool value(int depth) {
    if (depth > 256) return bad("nested too deeply");
    ws();
    if (p_ >= j_.size()) return bad("unexpected end of input");
    char c = j_[p_];
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++p_;
      ws();
      if (p_ < j_.size() && j_[p_] == close) { ++p_; return true; }
      for (;;) {
        if (c == '{') {
          ws();
          if (p_ >= j_.size()) return bad("unexpected end of input");
          if (j_[p_] != '"') return bad("expected a member name");
          if (!str()) return false;
          ws();
          if (p_ >= j_.size() || j_[p_] != ':') return bad("expected ':'");
          ++p_;
        }
        if (!value(depth + 1)) return false;
        ws();
        if (p_ < j_.size() && j_[p_] == ',') { ++p_; continue; }
        if (p_ < j_.size() && j_[p_] == close) { ++p_; return true; }
        return bad(c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    if (c == '"') return str();
    if (c == 't') return lit("true");
    if (c == 'f') return lit("false");
    if (c == 'n') return lit("null");
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return num();
    return bad("unexpected character");
  }
};

// The raw text of a TOP-LEVEL member's value in a well-formed JSON object (string with its
// quotes, number, object, ...), or empty when absent. A scanner over text JsonCheck accepted: it
// tracks depth and strings so that a key nested in prevResult or ipam is never taken for a
// top-level one.
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

// The text of a JSON string value (quotes removed, escapes decoded; \u escapes above 0x7f are
// written as UTF-8). Anything that is not a string gives an empty string.
std::string stringValue(const std::string& v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string();
  std::string o;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    char c = v[i];
    if (c != '\\') { o += c; continue; }
    char e = v[++i];
    switch (e) {
      case 'n': o += '\n'; break;
      case 't': o += '\t'; break;
      case 'r': o += '\r'; break;
      case 'b': o += '\b'; break;
      case 'f': o += '\f'; break;
      case 'u': {
        unsigned cp = static_cast<unsigned>(std::strtoul(v.substr(i + 1, 4).c_str(), nullptr, 16));
        i += 4;
        if (cp < 0x80) o += static_cast<char>(cp);
        else if (cp < 0x800) { o += static_cast<char>(0xc0 | (cp >> 6)); o += static_cast<char>(0x80 | (cp & 0x3f)); }
        else { o += static_cast<char>(0xe0 | (cp >> 12)); o += static_cast<char>(0x80 | ((cp >> 6) & 0x3f)); o += static_cast<char>(0x80 | (cp & 0x3f)); }
        break;
      }
      default: o += e;  // \" \\ \/
    }
  }
  return o;
}

bool supported(const std::string& version) {
  for (const char* v : kVersions) if (version == v) return true;
  return false;
}

int errorResult(const std::string& cniVersion, int code, const std::string& msg, const std::string& details) {
  std::string o = "{\"cniVersion\":" + jsonString(cniVersion.empty() || !supported(cniVersion) ? kLatest : cniVersion) + ",\"code\":" + std::to_string(code) +
                  ",\"msg\":" + jsonString(msg) + ",\"details\":" + jsonString(details) + "}\n";
  writeAll(1, o);
  return 1;
}

long nowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

enum class Asked { kAnswered, kDown, kTimedOut };

// Connects, sends, waits for the whole answer, all bounded by timeoutMs (SO_SNDTIMEO bounds the
// connect, which blocks on a unix socket whose backlog is full, and the send). kDown: no agent
// (no socket, refused, or closed with no answer); kTimedOut: connected but no answer in time.
// `reply` holds the answer, or the reason.
Asked askAgent(const std::string& socketPath, const std::string& request, long timeoutMs, std::string& reply) {
  const long deadline = nowMs() + timeoutMs;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { reply = std::string("socket: ") + std::strerror(errno); return Asked::kDown; }
  timeval tv{timeoutMs / 1000, static_cast<suseconds_t>((timeoutMs % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof addr.sun_path) { close(fd); reply = "socket path too long: " + socketPath; return Asked::kDown; }
  std::memcpy(addr.sun_path, socketPath.c_str(), socketPath.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    reply = "connect " + socketPath + ": " + std::strerror(e);
    close(fd);
    return e == EAGAIN || e == EINPROGRESS ? Asked::kTimedOut : Asked::kDown;
  }
  if (!writeAll(fd, request) || shutdown(fd, SHUT_WR) != 0) {
    const int e = errno;
    reply = std::string("send: ") + std::strerror(e);
    close(fd);
    return e == EAGAIN || e == EWOULDBLOCK ? Asked::kTimedOut : Asked::kDown;
  }
  std::string out;
  char buf[65536];
  for (;;) {
    long left = deadline - nowMs();
    if (left <= 0) { reply = "no answer from the agent within " + std::to_string(timeoutMs) + " ms"; close(fd); return Asked::kTimedOut; }
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno != EINTR) { reply = std::string("poll: ") + std::strerror(errno); close(fd); return Asked::kDown; }
    if (r <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { reply = std::string("read: ") + std::strerror(errno); close(fd); return Asked::kDown; }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (out.empty()) { reply = "the agent closed the connection without an answer"; return Asked::kDown; }
  reply = out;
  return Asked::kAnswered;
}

// mkdir -p with mode 0700 for the directories it creates.
void makeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') mkdir(dir.substr(0, i).c_str(), 0700);
  }
}

// A file name that identifies (container, interface) unambiguously: bytes outside [A-Za-z0-9_.-]
// become %XX, and the two are joined by '+', which is itself always escaped inside them.
std::string queueName(const std::string& containerId, const std::string& ifname) {
  auto enc = [](const std::string& s) {
    std::string o;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.') o += static_cast<char>(c);
      else { char b[4]; std::snprintf(b, sizeof b, "%%%02X", c); o += b; }
    }
    return o;
  };
  return enc(containerId) + "+" + enc(ifname) + ".json";
}

// DEL while the agent is down: one file per container and interface (the latest request wins),
// written atomically (a temporary name unique to this process, then rename) so a replay never
// reads half a request and two concurrent DELs never write one temporary file.
bool queueRequest(const std::string& dir, const std::string& containerId, const std::string& ifname, const std::string& request, std::string& why) {
  makeDirs(dir);
  const std::string path = dir + "/" + queueName(containerId, ifname);
  const std::string tmp = dir + "/.tmp-" + std::to_string(getpid()) + "-" + queueName(containerId, ifname);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) { why = "open " + tmp + ": " + std::strerror(errno); return false; }
  bool ok = writeAll(fd, request) && fsync(fd) == 0;
  if (!ok) why = "write " + tmp + ": " + std::strerror(errno);
  close(fd);
  if (ok && rename(tmp.c_str(), path.c_str()) != 0) { why = "rename to " + path + ": " + std::strerror(errno); ok = false; }
  if (!ok) unlink(tmp.c_str());
  return ok;
}

// "<exit code>\n<stdout>": the code must be decimal digits; anything else is not an answer.
bool parseAnswer(const std::string& reply, int& code, std::string& out) {
  size_t nl = reply.find('\n');
  if (nl == std::string::npos || nl == 0 || nl > 6) return false;
  for (size_t i = 0; i < nl; ++i) if (!std::isdigit(static_cast<unsigned char>(reply[i]))) return false;
  code = std::atoi(reply.substr(0, nl).c_str());
  out = reply.substr(nl + 1);
  return true;
}

}  // namespace

int main() {
  signal(SIGPIPE, SIG_IGN);
  const std::string command = env("CNI_COMMAND");
  if (command == "VERSION") {
    // stdin carries {"cniVersion": ...}; a terminal gives nothing to read
    const std::string in = isatty(0) ? std::string() : readAll(0);
    std::string v = JsonCheck(in).run().empty() ? stringValue(topLevelValue(in, "cniVersion")) : std::string();
    if (v.empty()) v = kLatest;
    std::string o = "{\"cniVersion\":" + jsonString(v) + ",\"supportedVersions\":[";
    for (size_t i = 0; i < sizeof kVersions / sizeof kVersions[0]; ++i) o += std::string(i ? "," : "") + "\"" + kVersions[i] + "\"";
    writeAll(1, o + "]}\n");
    return 0;
  }
  const bool isAdd = command == "ADD", isDel = command == "DEL", isCheck = command == "CHECK", isStatus = command == "STATUS", isGc = command == "GC";
  if (command.empty()) return errorResult("", kErrInvalidEnv, "CNI_COMMAND is not set", "this plugin is run by a container runtime (CNI spec)");
  if (!isAdd && !isDel && !isCheck && !isStatus && !isGc) {
    return errorResult("", kErrInvalidEnv, "unknown CNI_COMMAND " + jsonString(command), "expected ADD, DEL, CHECK, VERSION, STATUS or GC");
  }
  const std::string config = readAll(0);
  if (const std::string bad = JsonCheck(config).run(); !bad.empty()) {
    return errorResult("", kErrDecode, "the network configuration on stdin is not valid JSON: " + bad, config.substr(0, 200));
  }
  const std::string cniVersion = stringValue(topLevelValue(config, "cniVersion"));
  if (!supported(cniVersion)) {
    return errorResult("", kErrIncompatibleVersion, "incompatible CNI version: the network configuration's cniVersion is " + jsonString(cniVersion),
                       "this plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
  }
  for (const char* var : {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}) {
    const bool needed = (isAdd || isCheck) || (isDel && std::strcmp(var, "CNI_NETNS") != 0);
    if (needed && env(var).empty()) return errorResult(cniVersion, kErrInvalidEnv, std::string(var) + " is not set", "required for CNI_COMMAND=" + command);
  }
  std::string socketPath = stringValue(topLevelValue(config, "socket"));
  if (socketPath.empty()) socketPath = "/run/palisade/cni.sock";
  std::string queueDir = stringValue(topLevelValue(config, "queueDir"));
  if (queueDir.empty()) queueDir = "/run/palisade/cni-queue";
  long timeoutMs = 10000;
  if (std::string t = topLevelValue(config, "timeoutMs"); !t.empty()) timeoutMs = std::strtol(t.c_str(), nullptr, 10);
  if (timeoutMs <= 0 || timeoutMs > 600000) timeoutMs = 10000;
  const bool passWhenDown = stringValue(topLevelValue(config, "onAgentDown")) == "pass";
  const bool passOnTimeout = stringValue(topLevelValue(config, "onTimeout")) == "pass";

  const std::string request = "{\"command\":" + jsonString(command) + ",\"containerId\":" + jsonString(env("CNI_CONTAINERID")) +
                              ",\"netns\":" + jsonString(env("CNI_NETNS")) + ",\"ifname\":" + jsonString(env("CNI_IFNAME")) +
                              ",\"args\":" + jsonString(env("CNI_ARGS")) + ",\"path\":" + jsonString(env("CNI_PATH")) +
                              ",\"config\":" + jsonString(config) + "}";
  std::string reply;
  const Asked asked = askAgent(socketPath, request, timeoutMs, reply);
  if (asked != Asked::kAnswered) {
    if (isDel) {
      std::string why;
      if (queueRequest(queueDir, env("CNI_CONTAINERID"), env("CNI_IFNAME"), request, why)) return 0;
      return errorResult(cniVersion, kErrIo, "the palisade agent is not available and the DEL could not be queued", reply + "; " + why);
    }
    const bool pass = asked == Asked::kDown ? passWhenDown : passOnTimeout;
    const std::string what = asked == Asked::kDown ? "the palisade agent is not available" : "the palisade agent did not answer in time";
    if (!pass) return errorResult(cniVersion, isStatus ? kErrNotAvailable : kErrTryAgain, what, reply);
    if (isAdd) {
      const std::string prev = topLevelValue(config, "prevResult");
      writeAll(1, (prev.empty() ? "{\"cniVersion\":" + jsonString(cniVersion) + "}" : prev) + "\n");
    }
    return 0;
  }
  int code = 0;
  std::string out;
  if (!parseAnswer(reply, code, out)) return errorResult(cniVersion, kErrBadAnswer, "malformed answer from the palisade agent", reply.substr(0, 200));
  writeAll(1, out);
  return code == 0 ? 0 : (code > 255 ? 1 : code);
}
