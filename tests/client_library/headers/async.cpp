// Compiles <factotum/faktory/async.hpp> alone, under strict warnings: it includes what it uses.
#include <factotum/faktory/async.hpp>
