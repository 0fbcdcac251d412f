// Compiles <factotum/faktory/job.hpp> alone, under strict warnings: it includes what it uses.
#include <factotum/faktory/job.hpp>
