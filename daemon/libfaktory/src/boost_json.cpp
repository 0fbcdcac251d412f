// Boost.JSON compiled into libfactotum-faktory, hidden with the rest, instead of linking
// libboost_json: a program with a Boost.JSON of its own (any version) would otherwise lend the
// library its symbols, as the dynamic linker binds each name to its first definition.
#include <boost/json/src.hpp>
