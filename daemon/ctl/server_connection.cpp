#include "ctl/server_connection.hpp"

#include "daemon_settings.hpp"
#include "service/exit_status.hpp"

namespace factotum::ctl {

namespace {

const std::string kCredentialsNote =
    std::string(" (CREDENTIALS_DIRECTORY is unset: ctl reads it as ") + kCredentialsFallback +
    ", where the packaged unit's LoadCredential= takes it from)";

// Where the password sent came from, for a password the server refused.
std::string password_origin(const config::Config& config, const CtlEnvironment& env) {
  const auto& faktory = config.faktory;
  switch (faktory.password_source) {
    case config::PasswordSource::file:
      return "the password read from " + faktory.password_file.string() +
             " (faktory.password_file in " + config.source.string() + ")" +
             (env.credentials_fallback && faktory.password_file.string().starts_with(
                                              std::string(kCredentialsFallback) + "/")
                  ? kCredentialsNote
                  : std::string());
    case config::PasswordSource::config:
      return "the password of faktory.password in " + config.source.string();
    case config::PasswordSource::url:
      return "the password in the URL (from " + faktory.url_origin + ")";
    case config::PasswordSource::none:
      break;
  }
  if (faktory.url_source == config::ValueSource::flag ||
      faktory.url_source == config::ValueSource::environment) {
    return "no password: with a URL ctl reads no configuration file, and this one (from " +
           faktory.url_origin + ") has none";
  }
  return "no password: neither the URL nor " + config.source.string() + " gives one";
}

}  // namespace

CtlEnvironment ctl_environment() {
  auto env = faktory::process_environment();
  const bool fallback = !env("CREDENTIALS_DIRECTORY").has_value();
  return {[env](const std::string& name) -> std::optional<std::string> {
            auto value = env(name);
            if (!value && name == "CREDENTIALS_DIRECTORY") return std::string(kCredentialsFallback);
            return value;
          },
          fallback};
}

std::variant<config::Config, Failure> load_configuration(const ConnectionArgs& args,
                                                         const CtlEnvironment& env) {
  config::ConfigOverrides overrides;
  overrides.url = args.url;
  const auto from_environment = faktory::url_from_environment(env.lookup);
  // An error in FAKTORY_PROVIDER also counts: parse_config reports it as the daemon would.
  const bool url_given = args.url || !from_environment || from_environment->has_value();
  const std::string file = args.config.value_or(service::kDefaultConfigFile);
  try {
    if (url_given) {
      if (args.config) {
        return Failure{kExitUsage,
                       "--config and FAKTORY_URL (or FAKTORY_PROVIDER) in the environment exclude "
                       "each other: with a URL ctl reads no configuration (its password would go "
                       "to the server the URL names); unset it to use --config " +
                           file};
      }
      return config::parse_config("", "", overrides, env.lookup);
    }
    return config::load_config(file, overrides, env.lookup);
  } catch (const config::ConfigError& e) {
    std::string message = std::string("configuration error: ") + e.what();
    if (!args.config && e.file() == file && e.line() == 0) {
      message += " (give --config FILE, or the server with --url URL or FAKTORY_URL)";
    }
    if (e.key() == "faktory.password_file" && env.credentials_fallback) {
      message += kCredentialsNote;
    }
    return Failure{kExitConfig, std::move(message)};
  }
}

std::variant<std::unique_ptr<faktory::BlockingClient>, Failure> connect_to_server(
    const ConnectionArgs& args, const CtlEnvironment& env) {
  auto loaded = load_configuration(args, env);
  if (auto* failure = std::get_if<Failure>(&loaded)) return std::move(*failure);
  const auto& config = std::get<config::Config>(loaded);
  faktory::ClientOptions options;
  try {
    // The daemon's path from the configuration to a connection (TLS context included).
    options = *make_worker_settings(config, "factotum-ctl")->connection;
  } catch (const config::ConfigError& e) {
    return Failure{kExitConfig, std::string("configuration error: ") + e.what()};
  }
  options.identity = faktory::Identity{};  // a producer connection: it registers no worker
  auto client = std::make_unique<faktory::BlockingClient>(std::move(options));
  if (auto connected = client->connect(); !connected) {
    Failure failure = server_failure("cannot connect to the Faktory server at " +
                                         client->options().url.redacted() + " (from " +
                                         config.faktory.url_origin + ")",
                                     connected.error());
    if (failure.status == kExitNoPerm) failure.message += "; sent " + password_origin(config, env);
    return failure;
  }
  return client;
}

}  // namespace factotum::ctl
