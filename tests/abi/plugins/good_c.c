/* A plain C plugin built against the frozen 1.0 header (the quoted include is resolved
 * relative to this file first, so the current sdk.h can never sneak in). Exercises every
 * host function of the 1.0 table. */
#include "../frozen/1.0/factotum/sdk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const factotum_host_api* g_api;
static factotum_plugin* g_plugin;
static int* g_destroy_counter; /* test-side int whose address comes in the config */
static int g_shutdown_done;

static factotum_str make_str(const char* s) {
  factotum_str out;
  out.data = s;
  out.size = strlen(s);
  return out;
}

static void say(const char* text) {
  g_api->log(g_plugin, FACTOTUM_LOG_INFO, make_str(text));
}

/* Logs every job field in one line the test can compare. */
static factotum_status echo(factotum_job* job, void* user_data) {
  char line[2048];
  factotum_str jid = g_api->job_jid(job), type = g_api->job_jobtype(job),
               queue = g_api->job_queue(job), args = g_api->job_args_json(job),
               custom = g_api->job_custom_json(job), payload = g_api->job_payload_json(job);
  snprintf(line, sizeof line,
           "echo %s jid=%.*s jobtype=%.*s queue=%.*s args=%.*s custom=%.*s retry=%d "
           "payload=%.*s",
           (const char*)user_data, (int)jid.size, jid.data, (int)type.size, type.data,
           (int)queue.size, queue.data, (int)args.size, args.data, (int)custom.size, custom.data,
           (int)g_api->job_retry_count(job), (int)payload.size, payload.data);
  say(line);
  return FACTOTUM_OK;
}

static void destroy_echo_state(void* user_data) {
  (void)user_data;
  /* +1 when shutdown ran first (the documented order), +100 otherwise. */
  if (g_destroy_counter != NULL) *g_destroy_counter += g_shutdown_done ? 1 : 100;
}

static factotum_status fail_with_details(factotum_job* job, void* user_data) {
  (void)user_data;
  g_api->job_fail(job, make_str("CError"), make_str("first message"), make_str(""));
  g_api->job_fail(job, make_str("CError"), make_str("the C job failed"),
                  make_str("frame one\nframe two\n"));
  return FACTOTUM_FAILED;
}

static factotum_status fail_bare(factotum_job* job, void* user_data) {
  (void)job;
  (void)user_data;
  return FACTOTUM_FAILED;
}

static factotum_status check_cancelled(factotum_job* job, void* user_data) {
  (void)user_data;
  if (!g_api->job_cancelled(job)) return FACTOTUM_OK;
  g_api->job_fail(job, make_str("Cancelled"), make_str("saw the cancellation flag"), make_str(""));
  return FACTOTUM_ECANCELLED;
}

static factotum_status push_follow_up(factotum_job* job, void* user_data) {
  char jid[8];
  char line[128];
  factotum_status status;
  (void)user_data;
  (void)job;
  status =
      g_api->push_job(g_plugin, make_str("{\"jobtype\":\"Next\",\"args\":[1]}"), jid, sizeof jid);
  if (status != FACTOTUM_OK) return status;
  snprintf(line, sizeof line, "pushed %s", jid);
  say(line);
  return g_api->push_job(g_plugin, make_str("not json"), NULL, 0) == FACTOTUM_EINVAL
             ? FACTOTUM_OK
             : FACTOTUM_FAILED;
}

static factotum_status show_config(factotum_job* job, void* user_data) {
  factotum_str config = g_api->config_json(g_plugin);
  char line[512];
  (void)job;
  (void)user_data;
  snprintf(line, sizeof line, "config=%.*s", (int)config.size, config.data);
  say(line);
  return FACTOTUM_OK;
}

/* Registration is [init only]: from a job it must answer FACTOTUM_ESTATE. */
static factotum_status late_register(factotum_job* job, void* user_data) {
  (void)job;
  (void)user_data;
  return g_api->register_jobtype(g_plugin, make_str("TooLate"), &fail_bare, NULL, NULL);
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  factotum_str config;
  const char* at;
  char buffer[64];
  size_t n;
  factotum_status status = FACTOTUM_OK;
  if (api == NULL || api->abi_major != FACTOTUM_ABI_MAJOR) return FACTOTUM_EINVAL;
  g_api = api;
  g_plugin = plugin;

  /* {"destroy_counter": <address>}: lets the test observe destroy without a side channel. */
  config = api->config_json(plugin);
  n = config.size < sizeof buffer - 1 ? config.size : sizeof buffer - 1;
  memcpy(buffer, config.data, n);
  buffer[n] = '\0';
  at = strstr(buffer, "\"destroy_counter\":");
  if (at != NULL) g_destroy_counter = (int*)(uintptr_t)strtoull(at + 18, NULL, 10);

  status |=
      api->register_jobtype(plugin, make_str("CEcho"), &echo, (void*)"state", &destroy_echo_state);
  status |= api->register_jobtype(plugin, make_str("CFail"), &fail_with_details, NULL, NULL);
  status |= api->register_jobtype(plugin, make_str("CBare"), &fail_bare, NULL, NULL);
  status |= api->register_jobtype(plugin, make_str("CCancel"), &check_cancelled, NULL, NULL);
  status |= api->register_jobtype(plugin, make_str("CPush"), &push_follow_up, NULL, NULL);
  status |= api->register_jobtype(plugin, make_str("CConfig"), &show_config, NULL, NULL);
  status |= api->register_jobtype(plugin, make_str("CLateRegister"), &late_register, NULL, NULL);
  /* A second registration of one of our own jobtypes is refused. */
  if (api->register_jobtype(plugin, make_str("CBare"), &fail_bare, NULL, NULL) != FACTOTUM_EEXIST)
    return FACTOTUM_FAILED;
  {
    char line[64];
    factotum_str v = api->host_version;
    snprintf(line, sizeof line, "init on host %.*s abi %u.%u", (int)v.size, v.data,
             (unsigned)api->abi_major, (unsigned)api->abi_minor);
    say(line);
  }
  return status == FACTOTUM_OK ? FACTOTUM_OK : FACTOTUM_FAILED;
}

static void shutdown(factotum_plugin* plugin) {
  (void)plugin;
  g_shutdown_done = 1;
  say("good_c shutdown");
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "good_c",
                                                      "1.0.0",
                                                      &init,
                                                      &shutdown};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
