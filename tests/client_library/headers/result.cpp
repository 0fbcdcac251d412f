// Compiles <factotum/faktory/result.hpp> alone, under strict warnings: it includes what it uses.
#include <factotum/faktory/result.hpp>
