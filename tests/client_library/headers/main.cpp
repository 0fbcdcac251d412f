// Each public header of libfactotum-faktory compiled on its own (the other files here) under
// the strictest warnings a user may have; building this program is the test.
#include <factotum/faktory.hpp>

int main() {
  return faktory::library_version()[0] == '0' ? 0 : 1;
}
