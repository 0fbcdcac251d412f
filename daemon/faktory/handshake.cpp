#include "faktory/handshake.hpp"

#include "faktory/password_hash.hpp"
#include "faktory/quote.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <array>
#include <limits>

namespace factotum::faktory {

namespace {
constexpr int kMaxHashIterations = 100000;
}  // namespace

namespace {

namespace json = boost::json;

constexpr std::string_view kGreetingPrefix = "HI ";
constexpr int kProtocolVersion = 2;

Error handshake_error(std::string what) {
  return Error(errc::handshake_failed, std::move(what));
}

std::string describe(const Reply& reply) {
  switch (reply.kind) {
    case Reply::Kind::simple:
      return "the simple string " + quote("+" + reply.text);
    case Reply::Kind::error:
      return "the error " + quote("-" + reply.text);
    case Reply::Kind::bulk:
      return "a bulk string " + quote(reply.text);
    case Reply::Kind::null:
      return "a null bulk";
  }
  return "an unknown reply";
}

std::optional<int> small_int(const json::value& v) {
  if (v.is_int64() && v.get_int64() >= std::numeric_limits<int>::min() &&
      v.get_int64() <= std::numeric_limits<int>::max()) {
    return static_cast<int>(v.get_int64());
  }
  if (v.is_uint64() &&
      v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    return static_cast<int>(v.get_uint64());
  }
  return std::nullopt;
}

}  // namespace

Result<Greeting> parse_greeting(const Reply& reply) {
  if (reply.kind == Reply::Kind::error) return reply.to_error();
  const std::string_view text = reply.text;
  if (reply.kind != Reply::Kind::simple ||
      text.substr(0, kGreetingPrefix.size()) != kGreetingPrefix) {
    return handshake_error("expected the greeting '+HI {\"v\":2}' from the Faktory server, got " +
                           describe(reply) +
                           " (is this a Faktory server, and TLS on both sides or neither?)");
  }
  const std::string_view body = text.substr(kGreetingPrefix.size());
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return handshake_error("the greeting's JSON " + quote(body) + " is not a JSON object");
  }
  const json::object& obj = v.get_object();
  Greeting g;
  if (const auto* version = obj.if_contains("v")) {
    auto n = small_int(*version);
    if (!n) return handshake_error("the greeting's 'v' is not an integer: " + quote(body));
    g.version = *n;
  }
  // PROTOCOL.md §3.1: "i" and "s" appear only when the server has a password.
  if (const auto* salt = obj.if_contains("s")) {
    if (!salt->is_string()) {
      return handshake_error("the greeting's salt 's' is not a string: " + quote(body));
    }
    g.salt = std::string(salt->get_string());
  }
  if (const auto* iterations = obj.if_contains("i")) {
    auto n = small_int(*iterations);
    if (!n)
      return handshake_error("the greeting's iteration count 'i' is not an integer: " +
                             quote(body));
    // Faktory picks 4000-8095 (PROTOCOL.md §3.1). The hash runs on a processor's thread or
    // the control thread: an absurd count from a broken or hostile server must not stall
    // them for minutes.
    if (*n < 1 || *n > kMaxHashIterations) {
      return handshake_error("the greeting's iteration count " + std::to_string(*n) +
                             " is out of range (1-" + std::to_string(kMaxHashIterations) + ")");
    }
    g.iterations = *n;
  }
  return g;
}

Result<std::string> hello_command(const Greeting& greeting, const Identity& identity,
                                  const std::optional<std::string>& password) {
  json::object hello;
  // PROTOCOL.md §3.3: a non-empty wid is what makes the connection a worker, and only then
  // does the server look at hostname, pid and labels. A producer (empty wid) sends just `v`
  // (plus username/pwdhash), as the Ruby client does and transcript 01 shows; sending an empty
  // wid like the Go client would add nothing.
  if (!identity.wid.empty()) {
    hello["hostname"] = identity.hostname;
    hello["wid"] = identity.wid;
    hello["pid"] = identity.pid;
    json::array labels;
    labels.reserve(identity.labels.size());
    for (const auto& label : identity.labels) labels.emplace_back(label);
    hello["labels"] = std::move(labels);
  }
  hello["v"] = kProtocolVersion;
  if (!identity.username.empty()) hello["username"] = identity.username;
  if (greeting.wants_password()) {
    // An empty password cannot be right: a server with an empty password asks for none.
    if (!password || password->empty()) {
      return Error(errc::password_required,
                   "the Faktory server requires a password: set faktory.password, "
                   "faktory.password_file or put it in the URL (tcp://:PASSWORD@host:7419)");
    }
    // PROTOCOL.md §3.4: a missing "i" means a single round.
    hello["pwdhash"] = password_hash(*password, *greeting.salt, greeting.iterations.value_or(1));
  }
  // JSON escaping turns any CR/LF in hostname, wid or labels into \r / \n: one line only.
  std::string line = "HELLO ";
  line += json::serialize(hello);
  line += "\r\n";
  return line;
}

Identity process_identity(std::string wid, std::vector<std::string> labels) {
  Identity id;
  std::array<char, 256> name{};  // HOST_NAME_MAX is 64 on Linux; 255 is the POSIX bound
  if (::gethostname(name.data(), name.size() - 1) == 0) {
    id.hostname = name.data();  // name is zero-filled, so a truncated name is still terminated
  }
  if (id.hostname.empty()) id.hostname = "localhost";
  id.pid = static_cast<int>(::getpid());
  id.wid = std::move(wid);
  id.labels = std::move(labels);
  return id;
}

}  // namespace factotum::faktory
