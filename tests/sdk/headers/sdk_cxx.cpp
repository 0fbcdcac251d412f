// sdk.h compiles on its own as C++ (-Wall -Wextra -pedantic -Werror).
#include <factotum/sdk.h>

int factotum_sdk_cxx_check();
int factotum_sdk_cxx_check() {
  return FACTOTUM_ABI_MAJOR - 1;
}
