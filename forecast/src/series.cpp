#include "prescale/forecast/series.hpp"
// Series is header-only today; this unit keeps the library non-empty and is
// where out-of-line helpers on Series belong.
