#include "faktory/json_text.hpp"

#include <boost/json/parse_options.hpp>
#include <boost/json/stream_parser.hpp>

namespace factotum::faktory {

ParsedJson parse_json_text(std::string_view text, std::size_t max_depth) {
  boost::json::parse_options options;
  options.max_depth = max_depth;
  boost::json::stream_parser parser({}, options);
  ParsedJson out;
  // write() consumes up to the first byte it cannot take: where the error is.
  out.stopped_at = parser.write(text.data(), text.size(), out.error);
  if (!out.error) parser.finish(out.error);
  if (!out.error) out.value = parser.release();
  return out;
}

}  // namespace factotum::faktory
