#include "faktory/client_options.hpp"

namespace factotum::faktory {

ClientOptions ClientOptions::for_url(ServerUrl url) {
  ClientOptions options;
  options.url = std::move(url);
  return options;
}

}  // namespace factotum::faktory
