/* Built for a future SDK major 2: exports only factotum_plugin_v2. */
#include "factotum/sdk.h"

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  (void)api;
  (void)plugin;
  return FACTOTUM_OK;
}

static const factotum_plugin_descriptor descriptor = {
    sizeof(factotum_plugin_descriptor), 2, 0, "wrong_major", "2.0.0", &init, NULL};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v2(void);
FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v2(void) {
  return &descriptor;
}
