#include "config/did_you_mean.hpp"

#include "faktory/quote.hpp"

#include <algorithm>

namespace factotum::config {
namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) noexcept {
  if (prefix.size() > text.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[i]) != lower(prefix[i])) return false;
  }
  return true;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows: the transposition step looks two rows back.
  const std::size_t n = b.size();
  std::vector<std::size_t> two_back(n + 1), previous(n + 1), current(n + 1);
  for (std::size_t j = 0; j <= n; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= n; ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        current[j] = std::min(current[j], two_back[j - 2] + 1);
      }
    }
    std::swap(two_back, previous);
    std::swap(previous, current);
  }
  return previous[n];
}

std::optional<std::string> did_you_mean(std::string_view input,
                                        std::span<const std::string_view> candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const std::string_view candidate : candidates) {
    const std::size_t d = edit_distance(input, candidate);
    // A short name is "close" to almost anything: demand that most of it survives.
    const bool close = d <= 2 && d * 2 < std::max(input.size(), candidate.size());
    if (close && (!best || d < best_distance)) {
      best = std::string(candidate);
      best_distance = d;
    }
  }
  if (best) return best;
  if (input.size() >= 3) {
    for (const std::string_view candidate : candidates) {
      if (starts_with_ci(candidate, input)) return std::string(candidate);
    }
  }
  return std::nullopt;
}

std::optional<std::string> did_you_mean(std::string_view input,
                                        const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return did_you_mean(input, std::span<const std::string_view>(views));
}

std::string suggestion_suffix(std::string_view input,
                              std::span<const std::string_view> candidates) {
  if (auto match = did_you_mean(input, candidates)) {
    return "; did you mean " + faktory::quote(*match) + "?";
  }
  std::string out = "; expected one of: ";
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (i > 0) out += ", ";
    out += candidates[i];
  }
  return out;
}

}  // namespace factotum::config
