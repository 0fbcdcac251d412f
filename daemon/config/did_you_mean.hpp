// "did you mean ...?" for names an operator may mistype: config keys here, and in the daemon
// plugin, jobtype and middleware names that are only known once plugins are loaded.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::config {

// Optimal-string-alignment edit distance (Levenshtein plus adjacent transposition, so
// "wroker" → "worker" costs 1), compared case-insensitively.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate when it is close enough to be a likely typo: distance ≤ 2 and less
// than half the longer name (so "a" does not suggest "h"), or `input` a prefix of the
// candidate of at least 3 characters ("warn" → "warning"). Ties go to the earlier candidate.
std::optional<std::string> did_you_mean(std::string_view input,
                                        std::span<const std::string_view> candidates);
std::optional<std::string> did_you_mean(std::string_view input,
                                        const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or, without a close match, "; expected one of: a, b, c" — ready to
// append to an "unknown ..." message.
std::string suggestion_suffix(std::string_view input, std::span<const std::string_view> candidates);

}  // namespace factotum::config
