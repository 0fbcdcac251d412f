// Compiles <factotum/faktory/admin.hpp> alone, under strict warnings: it includes what it uses.
#include <factotum/faktory/admin.hpp>
