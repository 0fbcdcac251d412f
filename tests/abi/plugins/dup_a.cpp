// Registers jobtype "Dup" (loads first: name order).
#include <factotum/plugin.hpp>

FACTOTUM_PLUGIN("dup_a", "1.0.0", [](factotum::Registrar& r) {
  r.jobtype("Dup", [](factotum::Job&) {});
  r.jobtype("OnlyA", [](factotum::Job&) {});
})
