/* A plugin whose jobs crash the worker process, for the crash-containment tests: "segfault"
 * writes through a null pointer (SIGSEGV), "abort" calls abort() (SIGABRT), "overflow"
 * recurses until the stack runs out (SIGSEGV on the guard page: the crash handler must run on
 * its alternate stack). "crash_after_gate" crashes once the file named by args[0] exists, so
 * a test can have other jobs running at that moment. */
#include <factotum/sdk.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static factotum_str make_str(const char* s) {
  factotum_str out;
  out.data = s;
  out.size = strlen(s);
  return out;
}

static const factotum_host_api* g_api;

static factotum_status segfault(factotum_job* job, void* user_data) {
  volatile int* volatile nowhere = NULL;
  (void)job;
  (void)user_data;
  *nowhere = 42;
  return FACTOTUM_OK;
}

static factotum_status do_abort(factotum_job* job, void* user_data) {
  (void)job;
  (void)user_data;
  abort();
}

/* Not a tail call: every frame keeps a buffer alive across the recursive call. */
static int recurse(int depth) {
  volatile char frame[4096];
  if (depth < 0) return 0; /* never: keeps the compiler from calling the recursion infinite */
  frame[0] = (char)depth;
  return recurse(depth + 1) + frame[0];
}

static factotum_status overflow(factotum_job* job, void* user_data) {
  (void)job;
  (void)user_data;
  return recurse(0) == 0 ? FACTOTUM_OK : FACTOTUM_FAILED;
}

/* args_json is ["PATH"]: waits for PATH to exist, then segfaults. */
static factotum_status crash_after_gate(factotum_job* job, void* user_data) {
  char path[512];
  factotum_str args = g_api->job_args_json(job);
  const char* open = memchr(args.data, '"', args.size);
  const char* close;
  size_t n;
  struct timespec pause = {0, 10 * 1000 * 1000};
  if (open == NULL) return FACTOTUM_EINVAL;
  close = memchr(open + 1, '"', args.size - (size_t)(open + 1 - args.data));
  if (close == NULL) return FACTOTUM_EINVAL;
  n = (size_t)(close - open - 1);
  if (n >= sizeof path) return FACTOTUM_EINVAL;
  memcpy(path, open + 1, n);
  path[n] = '\0';
  while (access(path, F_OK) != 0) nanosleep(&pause, NULL);
  return segfault(job, user_data);
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  factotum_status status = FACTOTUM_OK;
  g_api = api;
  status |= api->register_jobtype(plugin, make_str("segfault"), &segfault, NULL, NULL);
  status |= api->register_jobtype(plugin, make_str("abort"), &do_abort, NULL, NULL);
  status |= api->register_jobtype(plugin, make_str("overflow"), &overflow, NULL, NULL);
  status |=
      api->register_jobtype(plugin, make_str("crash_after_gate"), &crash_after_gate, NULL, NULL);
  return status;
}

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                        FACTOTUM_ABI_MAJOR,
                                                        FACTOTUM_ABI_MINOR,
                                                        "crash_jobs",
                                                        "3.1.4",
                                                        init,
                                                        NULL};
  return &descriptor;
}
