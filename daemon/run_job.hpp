// `factotum run-job …`: the plugin author's harness (see run_job.cpp).
#pragma once

namespace factotum {

// argv[0] is "run-job". Returns the process exit status: 0 succeeded, 1 failed, 2 usage/load.
int run_job_main(int argc, char** argv);

}  // namespace factotum
