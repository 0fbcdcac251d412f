/*
 * factotum plugin SDK — the stable C ABI between the factotum daemon and its plugins.
 * ABI version 1.0.
 *
 * This header is the whole contract. A plugin is a shared library that exports exactly one
 * symbol, factotum_plugin_v1(), and talks to the daemon only through the function table it is
 * handed at init. Plugins never link against the daemon.
 *
 * Stability rules (DESIGN.md §4):
 *  - C99 types only across the boundary: no C++ types, no exceptions, no RTTI.
 *  - Every struct begins with `uint32_t size` (its sizeof as the writer knew it). Structs and
 *    the host function table only ever grow at the end; a reader never touches a field that
 *    lies beyond `size`, and the host zero-fills what an older plugin did not know about.
 *  - The entry point's name carries the ABI major. A new major is a new symbol.
 *  - The host accepts a plugin whose major equals its own and whose minor is <= its own; it
 *    tells the plugin its own version (factotum_host_api.abi_minor) so a plugin can refuse an
 *    older host or check for a function before calling it (FACTOTUM_HOST_HAS).
 *
 * Ownership: every factotum_str handed in either direction is a borrowed (pointer, length)
 * view, valid only for the duration of the call it is passed to or returned from (for job
 * accessors: until the job function returns). Copy what you keep. The host copies everything
 * it is handed. Strings are UTF-8 and not necessarily NUL-terminated.
 *
 * Threading: job functions and middleware run on many threads at once (one job per thread
 * at a time). Every function marked [any thread] may be called concurrently from job code.
 * Registration functions are [init only]: call them from your init function, on the thread
 * that calls it.
 *
 * This header compiles as C99 and as C++ with -Wall -Wextra -pedantic -Werror.
 */
#ifndef FACTOTUM_SDK_H
#define FACTOTUM_SDK_H

#include <stddef.h>
#include <stdint.h>

#define FACTOTUM_ABI_MAJOR 1
#define FACTOTUM_ABI_MINOR 0

#if defined(_WIN32)
#define FACTOTUM_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define FACTOTUM_EXPORT __attribute__((visibility("default")))
#else
#define FACTOTUM_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Basic types ------------------------------------------------------------------------ */

/* A borrowed UTF-8 string view: `data` may be NULL only when `size` is 0. */
typedef struct factotum_str {
  const char* data;
  size_t size;
} factotum_str;

/* Status codes. Fixed-width (not an enum) so their size never depends on the compiler. */
typedef int32_t factotum_status;
#define FACTOTUM_OK 0             /* success; for a job: ACK it                              */
#define FACTOTUM_FAILED 1         /* the job failed: the host FAILs it (see job_fail)        */
#define FACTOTUM_EINVAL 2         /* an argument was invalid (NULL, empty name, bad JSON ...) */
#define FACTOTUM_EEXIST 3         /* the jobtype or middleware name is already registered     */
#define FACTOTUM_ESTATE 4         /* not allowed now (e.g. registering after init)            */
#define FACTOTUM_EUNAVAILABLE 5   /* the service is down (e.g. push while the server is away) */
#define FACTOTUM_ECANCELLED 6     /* the job was cancelled (deadline or shutdown)             */
#define FACTOTUM_EINTERNAL 7      /* a host-side failure; details are in the daemon's log     */

/* Log levels for factotum_host_api.log (syslog numbering). */
typedef int32_t factotum_log_level;
#define FACTOTUM_LOG_ERROR 3
#define FACTOTUM_LOG_WARNING 4
#define FACTOTUM_LOG_INFO 6
#define FACTOTUM_LOG_DEBUG 7

/* Opaque handles owned by the host. */
typedef struct factotum_plugin factotum_plugin; /* this plugin, as the host knows it       */
typedef struct factotum_job factotum_job;       /* one job being run; valid during the call */

/* A job function: run the job, return FACTOTUM_OK to ACK it. Any other status FAILs it; call
 * job_fail() first to say why (otherwise errtype "PluginError" and a generic message are
 * used). Runs on one of the daemon's processor threads [any thread]; must be reentrant. */
typedef factotum_status (*factotum_job_fn)(factotum_job* job, void* user_data);

/* A middleware: wraps every job. Call host->job_next(job) to run the rest of the chain (the
 * next middleware, then the job function) and usually return what it returned; return without
 * calling it to short-circuit (FACTOTUM_OK skips the job and ACKs it, anything else FAILs it). */
typedef factotum_status (*factotum_middleware_fn)(factotum_job* job, void* user_data);

/* Frees user_data handed to a register function; called once, when the plugin generation is
 * retired (after its last job and after shutdown, on the same thread) or at daemon exit.
 * May be NULL. */
typedef void (*factotum_destroy_fn)(void* user_data);

/* ---- The host function table ------------------------------------------------------------- */

typedef struct factotum_host_api {
  uint32_t size;          /* sizeof(factotum_host_api) as the host was built               */
  uint16_t abi_major;     /* the host's ABI version                                        */
  uint16_t abi_minor;
  factotum_str host_version; /* the daemon's version, e.g. "0.3.0"                         */

  /* -- Registration [init only] -- */

  /* Registers the function that runs jobs of `jobtype`. A jobtype registered by another
   * plugin is FACTOTUM_EEXIST (and a load error naming both files). `user_data` is passed to
   * every call; `destroy` (may be NULL) frees it when this plugin generation is retired. */
  factotum_status (*register_jobtype)(factotum_plugin* plugin, factotum_str jobtype,
                                      factotum_job_fn fn, void* user_data,
                                      factotum_destroy_fn destroy);

  /* Registers a middleware under `name` (unique within this plugin; the config's
   * `middleware:` list refers to it as "<plugin>.<name>" or plain "<name>"). */
  factotum_status (*register_middleware)(factotum_plugin* plugin, factotum_str name,
                                         factotum_middleware_fn fn, void* user_data,
                                         factotum_destroy_fn destroy);

  /* -- Job accessors [any thread, during the job's call] -- */

  factotum_str (*job_jid)(const factotum_job* job);
  factotum_str (*job_jobtype)(const factotum_job* job);
  factotum_str (*job_queue)(const factotum_job* job);
  factotum_str (*job_args_json)(const factotum_job* job);    /* a JSON array, e.g. [1,"a"] */
  factotum_str (*job_custom_json)(const factotum_job* job);  /* a JSON object, {} if none  */
  factotum_str (*job_payload_json)(const factotum_job* job); /* the job; see plugin.hpp    */
  /* How many times this job failed before (0 for a first run; PROTOCOL.md §6 failure). */
  int32_t (*job_retry_count)(const factotum_job* job);

  /* Says why the job failed; the host FAILs it with these once the chain returns a status
   * other than FACTOTUM_OK. `backtrace` holds lines separated by '\n' (may be empty). Calling
   * it again replaces the earlier values. Returns FACTOTUM_EINVAL for a NULL job.
   * The host keeps at most 256 bytes of errtype, 8 KiB of message and 50 backtrace lines of
   * at most 512 bytes each, and cuts longer text as it copies it, at a UTF-8 character
   * boundary, the marker included in the cap: a cut errtype or line ends with "…", a cut
   * message with "… (truncated, 1.2 MiB)" (its original size), and a backtrace with more
   * lines ends with "… (N more lines)". That is what the daemon's log shows; the Faktory
   * server keeps less (100 bytes of errtype, 1000 of message), so the FAIL it is sent is cut
   * to that, with the same markers. */
  factotum_status (*job_fail)(factotum_job* job, factotum_str errtype, factotum_str message,
                              factotum_str backtrace);

  /* Non-zero once the job is cancelled: its deadline passed or the daemon is stopping. Long
   * jobs poll it and return FACTOTUM_ECANCELLED promptly. Cheap (an atomic load). */
  int32_t (*job_cancelled)(const factotum_job* job);

  /* From a middleware: runs the rest of the chain and returns its status. Each middleware
   * calls it at most once per job; a second call returns FACTOTUM_ESTATE. */
  factotum_status (*job_next)(factotum_job* job);

  /* -- Services [any thread] -- */

  /* Pushes a follow-up job. `job_json` is a Faktory job object; jid (generated when absent),
   * queue ("default") and retry (25) are filled in. On success the jid is copied into
   * jid_out (NUL-terminated, truncated to jid_out_size) when jid_out is not NULL.
   * Blocks until the server accepted it; FACTOTUM_EUNAVAILABLE when it cannot be reached,
   * and from the moment the worker has stopped (a plugin thread pushing late). */
  factotum_status (*push_job)(factotum_plugin* plugin, factotum_str job_json, char* jid_out,
                              size_t jid_out_size);

  /* Writes one line to the daemon's log, tagged with the plugin's name (and the jid when
   * called during a job). */
  void (*log)(factotum_plugin* plugin, factotum_log_level level, factotum_str message);

  /* This plugin's config subtree (`plugins.config.<name>` in the daemon's YAML) as a JSON
   * object; {} when there is none. Valid until the plugin's shutdown returns. */
  factotum_str (*config_json)(const factotum_plugin* plugin);
} factotum_host_api;

/* True when the host's table has `field` (a plugin built against a newer minor checks before
 * calling a function an older host does not have). */
#define FACTOTUM_HOST_HAS(api, field)                                                    \
  ((api) != NULL && (api)->size >= offsetof(factotum_host_api, field) + sizeof((api)->field) && \
   (api)->field != NULL)

/* ---- The plugin descriptor ----------------------------------------------------------------- */

typedef struct factotum_plugin_descriptor {
  uint32_t size;       /* sizeof(factotum_plugin_descriptor) as the plugin was built        */
  uint16_t abi_major;  /* FACTOTUM_ABI_MAJOR the plugin was built against                   */
  uint16_t abi_minor;  /* FACTOTUM_ABI_MINOR the plugin was built against                   */
  const char* name;    /* short, unique, [a-z0-9_-]; NUL-terminated, static storage         */
  const char* version; /* the plugin's own version; NUL-terminated, static storage          */

  /* Called once after loading, on the daemon's main thread: register jobtypes and
   * middleware here. Keep `api` and `plugin`: both stay valid until shutdown returns.
   * Return FACTOTUM_OK, or anything else to refuse loading (log why first). */
  factotum_status (*init)(const factotum_host_api* api, factotum_plugin* plugin);

  /* Optional (may be NULL). Called once when this plugin generation is retired, after its
   * last job returned: stop every thread you started. The code stays mapped afterwards.
   * It runs on the host's retirement thread (one per daemon, which shuts retired generations
   * down one after the other), never on a job's thread and never concurrently with a job of
   * this generation. (One exception: when the load is refused after init succeeded, because
   * a jobtype is another plugin's, it runs at once on the thread that called init.) */
  void (*shutdown)(factotum_plugin* plugin);
} factotum_plugin_descriptor;

/* The one symbol a plugin exports. Returns a pointer to a descriptor in static storage. */
typedef const factotum_plugin_descriptor* (*factotum_plugin_entry_fn)(void);
#define FACTOTUM_PLUGIN_ENTRY_SYMBOL "factotum_plugin_v1"

FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void);

/* Helper for C plugins: a factotum_str from a NUL-terminated literal. */
#define FACTOTUM_STR(literal) \
  { (literal), sizeof(literal) - 1 }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FACTOTUM_SDK_H */
