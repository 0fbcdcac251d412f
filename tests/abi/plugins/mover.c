/* Two plugins that hand a jobtype over in one reload, compiled four times: MOVER_NAME "mover_a"
 * or "mover_b", with MOVER_MOVING 1 when this build registers the jobtype "Moving" (besides
 * its own "Stay_a"/"Stay_b"). Every job logs "<name> ran <jobtype>". */
#include "factotum/sdk.h"

#include <stdio.h>
#include <string.h>

#if !defined(MOVER_NAME) || !defined(MOVER_MOVING)
#error "MOVER_NAME and MOVER_MOVING must be defined"
#endif
#define STRINGIFY2(x) #x
#define STRINGIFY(x) STRINGIFY2(x)

static const factotum_host_api* g_api;
static factotum_plugin* g_plugin;

static factotum_str make_str(const char* s) {
  factotum_str out;
  out.data = s;
  out.size = strlen(s);
  return out;
}

static factotum_status run(factotum_job* job, void* user_data) {
  char line[128];
  factotum_str type = g_api->job_jobtype(job);
  (void)user_data;
  snprintf(line, sizeof line, "%s ran %.*s", STRINGIFY(MOVER_NAME), (int)type.size, type.data);
  g_api->log(g_plugin, FACTOTUM_LOG_INFO, make_str(line));
  return FACTOTUM_OK;
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  factotum_status status;
  g_api = api;
  g_plugin = plugin;
  status = api->register_jobtype(plugin, make_str("Stay_" STRINGIFY(MOVER_NAME)), &run, NULL, NULL);
#if MOVER_MOVING
  if (status == FACTOTUM_OK) {
    status = api->register_jobtype(plugin, make_str("Moving"), &run, NULL, NULL);
  }
#endif
  return status;
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      STRINGIFY(MOVER_NAME),
                                                      "1." STRINGIFY(MOVER_MOVING) ".0",
                                                      &init,
                                                      NULL};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
