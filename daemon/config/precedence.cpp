#include "config/precedence.hpp"
#include "config/value_parsers.hpp"

namespace factotum::config {

void apply_flags(const ConfigOverrides& flags, Config& config) {
  if (flags.concurrency) {
    unsigned value = 0;
    if (auto error = parse_positive(*flags.concurrency, false, kMaxConcurrency,
                                    "a positive integer", value)) {
      throw ConfigError({}, "--concurrency", std::move(*error));
    }
    config.worker.concurrency = value;
    config.worker.concurrency_source = ValueSource::flag;
  }
  if (flags.log_level) {
    if (auto error = log_level_from_name(*flags.log_level, config.logging.level)) {
      throw ConfigError({}, "--log-level", std::move(*error));
    }
    config.logging.level_source = ValueSource::flag;
  }
}

// The file's URL was already validated where it stands, even if something else overrides it.
void resolve_url(const ConfigOverrides& flags, const faktory::EnvLookup& env, const FileFacts& file,
                 FaktoryConfig& out) {
  if (flags.url) {
    // A flag wins even over a broken environment, so --url is always a way out.
    auto parsed = faktory::parse_url(*flags.url);
    if (!parsed) throw ConfigError({}, "--url", parsed.error().message);
    out.url = std::move(*parsed);
    out.url_source = ValueSource::flag;
    out.url_origin = "--url";
  } else if (auto from_env = faktory::url_from_environment(env); !from_env) {
    // The message names FAKTORY_PROVIDER and what is wrong with it.
    throw ConfigError({}, "", from_env.error().message);
  } else if (*from_env) {
    const auto provider = env("FAKTORY_PROVIDER");
    const bool via_provider = provider && !provider->empty();
    const std::string variable = via_provider ? *provider : "FAKTORY_URL";
    auto parsed = faktory::parse_url(**from_env);
    if (!parsed) throw ConfigError({}, variable, parsed.error().message);
    out.url = std::move(*parsed);
    out.url_source = ValueSource::environment;
    out.url_origin = via_provider ? variable + " (named by FAKTORY_PROVIDER)" : variable;
  } else if (file.url) {
    out.url = *file.url;
    out.url_source = ValueSource::file;
    out.url_origin = "faktory.url at " + file.url_where.to_string();
  } else {
    out.url = faktory::parse_url(faktory::kDefaultUrl).value();
    out.url_source = ValueSource::default_value;
    out.url_origin = "default";
  }
  if (out.password_source == PasswordSource::none && out.url.password) {
    out.password_source = PasswordSource::url;
  }
}

}  // namespace factotum::config
