/* A plugin that crashes while it is being loaded, for the crash-at-load tests: CRASH_IN_INIT
 * dereferences a null pointer in init (SIGSEGV), CRASH_IN_CONSTRUCTOR aborts in a static
 * constructor, that is inside dlopen itself (SIGABRT). */
#include <factotum/sdk.h>

#include <signal.h>
#include <stdlib.h>

#ifdef CRASH_IN_CONSTRUCTOR
__attribute__((constructor)) static void crash_at_dlopen(void) {
  abort();
}
#endif

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  (void)api;
  (void)plugin;
#ifdef CRASH_IN_INIT
  raise(SIGSEGV);
#endif
  return FACTOTUM_OK;
}

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  static const factotum_plugin_descriptor descriptor = {
      sizeof(factotum_plugin_descriptor), FACTOTUM_ABI_MAJOR, FACTOTUM_ABI_MINOR, "crashing",
      "1.0.0", init, NULL};
  return &descriptor;
}
