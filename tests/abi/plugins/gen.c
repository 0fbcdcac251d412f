/* The generation-swap plugin, compiled twice: GEN_VERSION=1 and GEN_VERSION=2.
 * Job "Gen" with args ["wait"] logs "vN waiting", then waits until the job is cancelled (the
 * test's condition), and logs "vN finished". Every job logs "vN ran"; with args ["config"] it
 * also logs "vN config=<its config>". Init fails for a config that starts {"fail". */
#include "factotum/sdk.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef GEN_VERSION
#error "GEN_VERSION must be defined"
#endif
#define STRINGIFY2(x) #x
#define STRINGIFY(x) STRINGIFY2(x)
#define V "v" STRINGIFY(GEN_VERSION)

static const factotum_host_api* g_api;
static factotum_plugin* g_plugin;

static void say(const char* text) {
  factotum_str s;
  s.data = text;
  s.size = strlen(text);
  g_api->log(g_plugin, FACTOTUM_LOG_INFO, s);
}

static factotum_status run(factotum_job* job, void* user_data) {
  factotum_str args = g_api->job_args_json(job);
  (void)user_data;
  say(V " ran");
  if (args.size >= 8 && memcmp(args.data, "[\"config", 8) == 0) {
    factotum_str config = g_api->config_json(g_plugin);
    char line[256];
    snprintf(line, sizeof line, V " config=%.*s", (int)config.size, config.data);
    say(line);
  }
  if (args.size >= 6 && memcmp(args.data, "[\"wait", 6) == 0) {
    /* Polls the cancellation flag (the SDK's way for a long job to learn it should stop);
     * the 120 s cap keeps a broken test from hanging forever. */
    const struct timespec tick = {0, 1000000};
    long ticks = 0;
    say(V " waiting");
    while (!g_api->job_cancelled(job)) {
      if (++ticks > 120000) return FACTOTUM_FAILED;
      nanosleep(&tick, NULL);
    }
    say(V " finished");
  }
  return FACTOTUM_OK;
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  factotum_str config = api->config_json(plugin);
  g_api = api;
  g_plugin = plugin;
  say(V " init");
  /* A config of {"fail":...} is refused: a config change whose init fails. */
  if (config.size >= 7 && memcmp(config.data, "{\"fail\"", 7) == 0) {
    g_api->log(g_plugin, FACTOTUM_LOG_ERROR, (factotum_str)FACTOTUM_STR(V " refuses its config"));
    return FACTOTUM_FAILED;
  }
  return api->register_jobtype(plugin, (factotum_str)FACTOTUM_STR("Gen"), &run, NULL, NULL);
}

static void shutdown(factotum_plugin* plugin) {
  (void)plugin;
  say(V " shutdown");
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "gen",
                                                      STRINGIFY(GEN_VERSION) ".0.0",
                                                      &init,
                                                      &shutdown};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
