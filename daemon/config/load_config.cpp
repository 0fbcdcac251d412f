// YAML text → validated Config, in three steps: the file, walked once in file order so the
// first error reported is the first one in the file (sections/); then the settings flags and
// the environment may override (precedence.cpp); then the warnings (warnings.cpp). Every error
// names file:line:col and the dotted key.
#include "config/config.hpp"
#include "config/did_you_mean.hpp"
#include "config/file_facts.hpp"
#include "config/precedence.hpp"
#include "config/read_file.hpp"
#include "config/sections/sections.hpp"
#include "config/warnings.hpp"
#include "config/yaml_reader.hpp"
#include "faktory/quote.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <sstream>

namespace factotum::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTopKeys[] = {"faktory",    "worker",  "plugins", "jobtypes",
                                         "middleware", "logging", "metrics"};

// The document's sections into `config`, and into `facts` what the later steps need.
void read_document(const YamlReader& yaml, const YAML::Node& root, const faktory::EnvLookup& env,
                   Config& config, FileFacts& facts) {
  if (root.IsNull()) return;
  if (!root.IsMap()) {
    yaml.fail(root, "",
              "the configuration must be a map of sections (faktory, worker, plugins, ...), got " +
                  describe_value(root));
  }
  yaml.entries(root, "", [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
    if (key == "faktory") {
      read_faktory(yaml, v, env, config.faktory, facts);
    } else if (key == "worker") {
      read_worker(yaml, v, config.worker);
    } else if (key == "plugins") {
      read_plugins(yaml, v, config.plugins);
    } else if (key == "jobtypes") {
      read_jobtypes(yaml, v, config.jobtypes);
    } else if (key == "middleware") {
      read_middleware(yaml, k, v, config.middleware);
    } else if (key == "logging") {
      read_logging(yaml, v, config.logging);
    } else if (key == "metrics") {
      read_metrics(yaml, v, config.metrics);
    } else {
      yaml.fail(k, key,
                "unknown top-level key " + faktory::quote(key) + suggestion_suffix(key, kTopKeys));
    }
  });
}

// Where the last document began, and nothing else of the events.
class DocumentStart final : public YAML::EventHandler {
 public:
  YAML::Mark mark;
  void OnDocumentStart(const YAML::Mark& m) override { mark = m; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7's LoadAll never returns when a document starts with a ',' (a stray comma on a
// line of its own): its parser leaves the token where it is and reports an empty document
// again and again, until memory runs out (found by tests/fuzz/fuzz_config_yaml). So the same
// parser first walks the documents on events alone, and one that starts where the last one
// did is the error yaml-cpp should have reported.
void check_documents_advance(const std::string& text, const std::string& source_name) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStart start;
  std::optional<int> previous;
  while (parser.HandleNextDocument(start)) {
    if (previous == start.mark.pos) {
      const auto at = std::min(static_cast<std::size_t>(start.mark.pos), text.size());
      throw ConfigError(location_of(start.mark, source_name), "",
                        "invalid YAML: unexpected " + faktory::quote(text.substr(at, 1)));
    }
    previous = start.mark.pos;
  }
}

// The one document in `yaml`; null when there is none.
YAML::Node load_document(std::string_view yaml, const std::string& source_name) {
  std::vector<YAML::Node> documents;
  try {
    const std::string text(yaml);
    check_documents_advance(text, source_name);
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(location_of(e.mark, source_name), "", "invalid YAML: " + e.msg);
  }
  // A stray "---" splits the file; yaml-cpp's Load would silently ignore all but the first.
  for (std::size_t i = 1; i < documents.size(); ++i) {
    if (!documents[i].IsNull()) {
      throw ConfigError(location_of(documents[i], source_name), "",
                        "the file holds more than one YAML document; put everything in one");
    }
  }
  return documents.empty() ? YAML::Node() : documents.front();
}

}  // namespace

Config parse_config(std::string_view yaml, std::string source_name, const ConfigOverrides& flags,
                    const faktory::EnvLookup& env) {
  const YAML::Node root = load_document(yaml, source_name);

  std::error_code ec;
  fs::path base_dir = fs::absolute(fs::path(source_name), ec).parent_path();
  if (ec) base_dir = fs::path(source_name).parent_path();

  Config config;
  config.source = source_name;
  FileFacts facts;
  read_document(YamlReader(std::move(source_name), std::move(base_dir)), root, env, config, facts);
  apply_flags(flags, config);
  resolve_url(flags, env, facts, config.faktory);
  config.warnings = config_warnings(config.faktory, facts);
  return config;
}

Config load_config(const std::filesystem::path& file, const ConfigOverrides& flags,
                   const faktory::EnvLookup& env) {
  const FileContents contents = read_whole_file(file);
  if (!contents.ok()) {
    throw ConfigError(SourceLocation{file.string(), 0, 0}, "",
                      "cannot read the configuration file: " + contents.error);
  }
  return parse_config(contents.data, file.string(), flags, env);
}

}  // namespace factotum::config
