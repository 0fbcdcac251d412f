/* A shared library that is not a factotum plugin: no factotum_plugin_v<N> at all. */
#include "factotum/sdk.h"

FACTOTUM_EXPORT int not_a_plugin(void);
FACTOTUM_EXPORT int not_a_plugin(void) {
  return 42;
}
