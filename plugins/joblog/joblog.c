/* The joblog plugin, in plain C99 (it proves the plugin ABI is really C):
 *  - middleware "joblog": logs every job's jid, jobtype, outcome and duration at info level;
 *  - jobtype "sleep": sleeps args[0] milliseconds, stopping early when the job is cancelled
 *    (deadline or shutdown) — handy for trying out timeouts and graceful stops. */
#define _POSIX_C_SOURCE 200809L
#include <factotum/sdk.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const factotum_host_api* api;
static factotum_plugin* self;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void log_line(factotum_log_level level, const char* text) {
  factotum_str message;
  message.data = text;
  message.size = strlen(text);
  api->log(self, level, message);
}

/* printf's %.*s needs a non-NULL pointer even for an empty view. */
static const char* chars(factotum_str s) {
  return s.data != NULL ? s.data : "";
}

static const char* outcome(factotum_status status) {
  if (status == FACTOTUM_OK) return "succeeded";
  if (status == FACTOTUM_ECANCELLED) return "cancelled";
  return "failed";
}

static factotum_status joblog(factotum_job* job, void* user_data) {
  double started = now_ms();
  factotum_status status;
  factotum_str jid = api->job_jid(job);
  factotum_str jobtype = api->job_jobtype(job);
  char line[512];
  (void)user_data;

  status = api->job_next(job);
  snprintf(line, sizeof line, "job %.*s jid=%.*s %s in %.1f ms", (int)jobtype.size, chars(jobtype),
           (int)jid.size, chars(jid), outcome(status), now_ms() - started);
  log_line(FACTOTUM_LOG_INFO, line);
  return status;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* args_json is a JSON array whose first element is the duration in ms, e.g. [250]. Returns it,
 * or -1 when args[0] is not a non-negative integer (JSON parsed by hand: this is C99 with no
 * dependencies, and one number is all it needs). Huge values saturate at LONG_MAX. */
static long first_arg_ms(factotum_str args) {
  size_t i = 0;
  long ms = 0;
  int digits = 0;
  while (i < args.size && is_space(args.data[i])) ++i;
  if (i == args.size || args.data[i] != '[') return -1;
  ++i;
  while (i < args.size && is_space(args.data[i])) ++i;
  for (; i < args.size && args.data[i] >= '0' && args.data[i] <= '9'; ++i, ++digits) {
    int digit = args.data[i] - '0';
    ms = ms > (LONG_MAX - digit) / 10 ? LONG_MAX : ms * 10 + digit;
  }
  while (i < args.size && is_space(args.data[i])) ++i;
  if (digits == 0 || i == args.size || (args.data[i] != ',' && args.data[i] != ']')) return -1;
  return ms;
}

static factotum_status sleep_job(factotum_job* job, void* user_data) {
  long ms = first_arg_ms(api->job_args_json(job));
  double until;
  (void)user_data;
  if (ms < 0) {
    const factotum_str errtype = FACTOTUM_STR("ArgumentError");
    const factotum_str message =
        FACTOTUM_STR("sleep needs args [milliseconds]: a non-negative integer, e.g. [250]");
    const factotum_str none = {NULL, 0};
    api->job_fail(job, errtype, message, none);
    return FACTOTUM_FAILED;
  }
  until = now_ms() + (double)ms;
  while (now_ms() < until) {
    struct timespec step = {0, 20 * 1000 * 1000}; /* poll cancellation every 20 ms */
    if (api->job_cancelled(job)) {
      const factotum_str errtype = FACTOTUM_STR("Cancelled");
      const factotum_str message = FACTOTUM_STR("sleep was cancelled");
      const factotum_str none = {NULL, 0};
      api->job_fail(job, errtype, message, none);
      return FACTOTUM_ECANCELLED;
    }
    nanosleep(&step, NULL);
  }
  return FACTOTUM_OK;
}

static factotum_status init(const factotum_host_api* host, factotum_plugin* plugin) {
  const factotum_str middleware = FACTOTUM_STR("joblog");
  const factotum_str jobtype = FACTOTUM_STR("sleep");
  factotum_status status;
  api = host;
  self = plugin;
  status = api->register_middleware(plugin, middleware, joblog, NULL, NULL);
  if (status != FACTOTUM_OK) return status;
  return api->register_jobtype(plugin, jobtype, sleep_job, NULL, NULL);
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "joblog",
                                                      "1.0.0",
                                                      init,
                                                      NULL};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
