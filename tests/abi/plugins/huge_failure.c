/* Jobs that fail with far more text than the host keeps (failure_limits.hpp):
 *  - "HugeFailure": errtype of 1000 'E', a 1 MiB message of 'm', and a backtrace of 1000
 *    lines of 2000 bytes ("0000" to "0999", then 'x'), each ended by '\n'.
 *  - "HugeUtf8Failure": the same sizes in 3-byte UTF-8 ("€", E2 82 AC), placed so that every
 *    cap falls inside a character: errtype 300 "€"; message 349525 "€" then "a" (1 MiB);
 *    backtrace lines "0000" + 665 "€" + "x" (2000 bytes). */
#include "factotum/sdk.h"

#include <stdlib.h>
#include <string.h>

#define MESSAGE_BYTES (1024 * 1024)
#define LINES 1000
#define LINE_BYTES 2000

static const factotum_host_api* g_api;

static const char euro[] = "\xE2\x82\xAC";

/* Writes `count` euro signs at `out`; returns the byte after them. */
static char* put_euros(char* out, size_t count) {
  size_t i;
  for (i = 0; i < count; ++i) {
    memcpy(out, euro, 3);
    out += 3;
  }
  return out;
}

static factotum_status fail(factotum_job* job, int utf8) {
  char* errtype = malloc(1000);
  char* message = malloc(MESSAGE_BYTES);
  char* backtrace = malloc((size_t)LINES * (LINE_BYTES + 1));
  size_t errtype_size = 1000;
  int line;
  if (errtype == NULL || message == NULL || backtrace == NULL) {
    free(errtype);
    free(message);
    free(backtrace);
    return FACTOTUM_EINTERNAL;
  }
  if (utf8) {
    errtype_size = (size_t)(put_euros(errtype, 300) - errtype);
    put_euros(message, (MESSAGE_BYTES - 1) / 3);
    message[MESSAGE_BYTES - 1] = 'a';
  } else {
    memset(errtype, 'E', errtype_size);
    memset(message, 'm', MESSAGE_BYTES);
  }
  for (line = 0; line < LINES; ++line) {
    char* start = backtrace + (size_t)line * (LINE_BYTES + 1);
    start[0] = (char)('0' + line / 1000);
    start[1] = (char)('0' + line / 100 % 10);
    start[2] = (char)('0' + line / 10 % 10);
    start[3] = (char)('0' + line % 10);
    if (utf8) {
      put_euros(start + 4, 665);
      start[LINE_BYTES - 1] = 'x';
    } else {
      memset(start + 4, 'x', LINE_BYTES - 4);
    }
    start[LINE_BYTES] = '\n';
  }
  {
    const factotum_str type_str = {errtype, errtype_size};
    const factotum_str message_str = {message, MESSAGE_BYTES};
    const factotum_str backtrace_str = {backtrace, (size_t)LINES * (LINE_BYTES + 1)};
    g_api->job_fail(job, type_str, message_str, backtrace_str);
  }
  /* The host copied what it keeps: the strings were borrowed for the call only. */
  free(errtype);
  free(message);
  free(backtrace);
  return FACTOTUM_FAILED;
}

static factotum_status huge_failure(factotum_job* job, void* user_data) {
  (void)user_data;
  return fail(job, 0);
}

static factotum_status huge_utf8_failure(factotum_job* job, void* user_data) {
  (void)user_data;
  return fail(job, 1);
}

static factotum_status init(const factotum_host_api* api, factotum_plugin* plugin) {
  factotum_status status;
  g_api = api;
  status = api->register_jobtype(plugin, (factotum_str)FACTOTUM_STR("HugeFailure"), &huge_failure,
                                 NULL, NULL);
  if (status != FACTOTUM_OK) return status;
  return api->register_jobtype(plugin, (factotum_str)FACTOTUM_STR("HugeUtf8Failure"),
                               &huge_utf8_failure, NULL, NULL);
}

static const factotum_plugin_descriptor descriptor = {sizeof(factotum_plugin_descriptor),
                                                      FACTOTUM_ABI_MAJOR,
                                                      FACTOTUM_ABI_MINOR,
                                                      "huge_failure",
                                                      "1.0.0",
                                                      &init,
                                                      NULL};

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {
  return &descriptor;
}
