// Boost.JSON's compiled part, built into this plugin (and hidden by its visibility settings)
// so the plugin links against no Boost library and no daemon code (-Wl,-z,defs). The only
// translation unit that may include src.hpp: a second copy would be an ODR violation.
#include <boost/json/src.hpp>
