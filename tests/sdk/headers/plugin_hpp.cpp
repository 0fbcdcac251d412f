// plugin.hpp compiles on its own as C++ (-Wall -Wextra -pedantic -Werror).
#include <factotum/plugin.hpp>

int factotum_plugin_hpp_check();
int factotum_plugin_hpp_check() {
  return factotum::LogLevel::info == factotum::LogLevel::info ? 0 : 1;
}
