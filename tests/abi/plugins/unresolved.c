/* Calls a function nothing defines, from code that never runs at load. Built without
 * -Wl,-z,defs on purpose: with RTLD_LAZY it would load and crash at the first job; the host
 * loads with RTLD_NOW, so it must be refused at load (DESIGN.md §4.6). */
#include "factotum/sdk.h"

extern int factotum_test_symbol_nobody_defines(void);

static factotum_status run(factotum_job* job, void* user_data) {
  (void)job;
  (void)user_data;
  return factotum_test_symbol_nobody_defines();
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  return api->register_jobtype(plugin, (factotum_str)FACTOTUM_STR("Unresolved"), &run, NULL, NULL);
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "unresolved",
                                                      "1.0.0",
                                                      &init,
                                                      NULL};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
