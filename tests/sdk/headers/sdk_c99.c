/* sdk.h compiles on its own as strict C99 (-std=c99 -Wall -Wextra -pedantic -Werror). */
#include <factotum/sdk.h>

int factotum_sdk_c99_check(void);
int factotum_sdk_c99_check(void) {
  const factotum_str s = FACTOTUM_STR("x");
  return (int)s.size + FACTOTUM_ABI_MAJOR - 2;
}
