/* The benchmark plugin: jobtype "noop" does nothing and succeeds, so a drain benchmark
 * measures factotum itself (fetch, dispatch, ACK), not job code. Plain C against sdk.h. */
#include <factotum/sdk.h>

static factotum_status noop(factotum_job* job, void* user_data) {
  (void)job;
  (void)user_data;
  return FACTOTUM_OK;
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  const factotum_str jobtype = FACTOTUM_STR("noop");
  return api->register_jobtype(plugin, jobtype, noop, NULL, NULL);
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "noop",
                                                      "1.0.0",
                                                      init,
                                                      NULL};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
