// Compiles <factotum/faktory.hpp> alone, under strict warnings: it includes what it uses.
#include <factotum/faktory.hpp>
