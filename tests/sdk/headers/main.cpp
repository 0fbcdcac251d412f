// Links the header checks together; running it proves they compiled (see CMakeLists.txt).
extern "C" int factotum_sdk_c99_check(void);
int factotum_sdk_cxx_check();
int factotum_plugin_hpp_check();

int main() {
  return factotum_sdk_c99_check() + factotum_sdk_cxx_check() + factotum_plugin_hpp_check();
}
