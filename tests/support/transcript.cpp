#include "transcript.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace factotum::testing {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "# @conn NAME" → NAME; "" when the line is not that marker.
std::string marker_arg(std::string_view line, std::string_view marker) {
  if (line.rfind(marker, 0) != 0) return {};
  auto rest = line.substr(marker.size());
  if (!rest.empty() && rest[0] != ' ') return {};
  auto start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) return {};
  rest = rest.substr(start);
  return std::string(rest.substr(0, rest.find(' ')));
}

}  // namespace

std::string unescape_transcript(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (i + 1 >= in.size()) throw std::invalid_argument("backslash at end of line");
    char e = in[++i];
    switch (e) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x': {
        int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
        int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
        if (hi < 0 || lo < 0) throw std::invalid_argument("\\x needs two hex digits");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        throw std::invalid_argument(std::string("unknown escape \\") + e);
    }
  }
  return out;
}

Transcript parse_transcript(std::string_view text, std::string name) {
  Transcript t;
  t.name = std::move(name);
  std::string conn;
  std::set<std::string> seen;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++line_no;
    if (line.empty()) continue;
    TranscriptEvent ev{TranscriptEvent::Kind::comment, conn, {}, std::string(line), line_no};
    auto where = [&] { return t.name + ":" + std::to_string(line_no) + ": "; };
    if (line.rfind("C: ", 0) == 0 || line.rfind("S: ", 0) == 0) {
      if (conn.empty()) throw std::invalid_argument(where() + "C:/S: line before any @conn");
      ev.kind = line[0] == 'C' ? TranscriptEvent::Kind::send : TranscriptEvent::Kind::expect;
      try {
        ev.bytes = unescape_transcript(line.substr(3));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(where() + e.what());
      }
    } else if (line[0] == '#') {
      if (auto name_arg = marker_arg(line, "# @conn"); !name_arg.empty()) {
        conn = name_arg;
        if (seen.insert(conn).second) {
          t.events.push_back({TranscriptEvent::Kind::open, conn, {}, std::string(line), line_no});
        }
        continue;
      }
      if (line.rfind("# @eof", 0) == 0) {
        if (conn.empty()) throw std::invalid_argument(where() + "@eof before any @conn");
        ev.kind = TranscriptEvent::Kind::eof;
      }
    } else {
      throw std::invalid_argument(where() + "line is neither C:, S:, # nor empty");
    }
    t.events.push_back(std::move(ev));
  }
  return t;
}

Transcript load_transcript(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read transcript " + file.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_transcript(ss.str(), file.filename().string());
}

std::vector<std::filesystem::path> transcript_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> transcript_lines(std::string_view file, char side) {
  const auto transcript = load_transcript(std::filesystem::path(FACTOTUM_SOURCE_DIR) / "tests" /
                                          "transcripts" / std::string(file));
  const auto wanted = side == 'S' ? TranscriptEvent::Kind::expect : TranscriptEvent::Kind::send;
  std::vector<std::string> lines;
  for (const auto& event : transcript.events) {
    if (event.kind == wanted) lines.push_back(event.bytes);
  }
  return lines;
}

}  // namespace factotum::testing
