/* Also registers "Dup", ignores the EEXIST and returns OK from init: the host must still
 * refuse the whole plugin (a load error naming both files, DESIGN.md §4.9). */
#include "factotum/sdk.h"

static const factotum_host_api* g_api;

static factotum_status run(factotum_job* job, void* user_data) {
  (void)job;
  (void)user_data;
  return FACTOTUM_OK;
}

static void shutdown(factotum_plugin* plugin) {
  g_api->log(plugin, FACTOTUM_LOG_INFO, (factotum_str)FACTOTUM_STR("dup_b shutdown"));
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  g_api = api;
  api->register_jobtype(plugin, (factotum_str)FACTOTUM_STR("OnlyB"), &run, NULL, NULL);
  api->register_jobtype(plugin, (factotum_str)FACTOTUM_STR("Dup"), &run, NULL, NULL);
  return FACTOTUM_OK;
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "dup_b",
                                                      "1.0.0",
                                                      &init,
                                                      &shutdown};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
