// Compiles <factotum/faktory/client.hpp> alone, under strict warnings: it includes what it uses.
#include <factotum/faktory/client.hpp>
