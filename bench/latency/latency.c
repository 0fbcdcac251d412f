/* The latency benchmark's plugin: jobtype "stamp" takes [PUSHED_NS, "FIFO"] — when the job was
 * pushed, on CLOCK_MONOTONIC (one clock for every process of the machine) — and writes how long
 * it took until the job function started, in nanoseconds, as one line to the FIFO the probe
 * reads (bench/latency_probe.cpp). The time is taken first thing; the rest is bookkeeping.
 * Plain C against sdk.h. */
#include <factotum/sdk.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const factotum_host_api* host;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static factotum_status stamp(factotum_job* job, void* user_data) {
  const long long started = now_ns();
  char args[1024];
  char path[900];
  char line[32];
  const factotum_str text = host->job_args_json(job);
  long long pushed = 0;
  const char* open_quote;
  const char* close_quote;
  size_t length;
  int fd;
  int n;
  (void)user_data;
  if (text.size >= sizeof args) return FACTOTUM_FAILED;
  memcpy(args, text.data, text.size);
  args[text.size] = '\0';
  /* args: [123456789, "/path/to/fifo"] */
  pushed = strtoll(args + 1, NULL, 10);
  open_quote = strchr(args, '"');
  close_quote = open_quote != NULL ? strchr(open_quote + 1, '"') : NULL;
  if (close_quote == NULL) return FACTOTUM_FAILED;
  length = (size_t)(close_quote - open_quote - 1);
  if (length >= sizeof path) return FACTOTUM_FAILED;
  memcpy(path, open_quote + 1, length);
  path[length] = '\0';
  fd = open(path, O_WRONLY | O_NONBLOCK);
  if (fd < 0) return FACTOTUM_FAILED;
  n = snprintf(line, sizeof line, "%lld\n", started - pushed);
  if (n > 0 && write(fd, line, (size_t)n) != n) {
    close(fd);
    return FACTOTUM_FAILED;
  }
  close(fd);
  return FACTOTUM_OK;
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  const factotum_str jobtype = FACTOTUM_STR("stamp");
  host = api;
  return api->register_jobtype(plugin, jobtype, stamp, NULL, NULL);
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "latency",
                                                      "1.0.0",
                                                      init,
                                                      NULL};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
