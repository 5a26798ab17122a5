#include "rig.h"
#include "harness.h"
static void t(void) { CHECK(1); }
PV_TEST_MAIN(TEST(t))
