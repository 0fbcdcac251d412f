/* Claims SDK 1.99: this host (1.0) must refuse it and say "upgrade factotum". */
#include "factotum/sdk.h"

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  (void)api;
  (void)plugin;
  return FACTOTUM_OK;
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      99,
                                                      "newer_minor",
                                                      "1.0.0",
                                                      &init,
                                                      NULL};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
