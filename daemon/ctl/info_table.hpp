// `factotum ctl info`: the server's INFO reply (PROTOCOL.md §5, transcripts/08-info.txt) as a
// short human table. A field the server left out shows as "?": the text never throws on a
// server of another version. (INFO does not say which queues are paused.)
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace factotum::ctl {

// `server` is the redacted URL, shown in the first line.
std::string format_info(const boost::json::object& info, std::string_view server);

// 90061 s → "1d 1h": the two largest units, for the uptime.
std::string format_uptime(std::int64_t seconds);

}  // namespace factotum::ctl
