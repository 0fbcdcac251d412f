/* Registers a jobtype (with state to free), logs why it cannot start, and refuses to load.
 * The host must drop the registration, destroy its state, and not call shutdown. */
#include "factotum/sdk.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int* g_counter;

static factotum_status run(factotum_job* job, void* user_data) {
  (void)job;
  (void)user_data;
  return FACTOTUM_OK;
}

static void destroy(void* user_data) {
  (void)user_data;
  if (g_counter != NULL) *g_counter += 1;
}

static void shutdown(factotum_plugin* plugin) {
  (void)plugin;
  if (g_counter != NULL) *g_counter += 100; /* must never happen: init failed */
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  factotum_str config = api->config_json(plugin);
  char buffer[64];
  size_t n = config.size < sizeof buffer - 1 ? config.size : sizeof buffer - 1;
  const char* at;
  memcpy(buffer, config.data, n);
  buffer[n] = '\0';
  at = strstr(buffer, "\"destroy_counter\":");
  if (at != NULL) g_counter = (int*)(uintptr_t)strtoull(at + 18, NULL, 10);
  api->register_jobtype(plugin, (factotum_str)FACTOTUM_STR("NeverRuns"), &run, NULL, &destroy);
  {
    factotum_str why = FACTOTUM_STR("cannot start: no database configured");
    api->log(plugin, FACTOTUM_LOG_ERROR, why);
  }
  return FACTOTUM_FAILED;
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "init_fails",
                                                      "1.0.0",
                                                      &init,
                                                      &shutdown};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
