// Compiles <factotum/faktory/options.hpp> alone, under strict warnings: it includes what it uses.
#include <factotum/faktory/options.hpp>
