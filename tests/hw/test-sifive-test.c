/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sifive_test: each request code reaches the board's callback with the
 * right code; anything else is a guest error and requests nothing.
 */
#include "fixture.h"
#include "harness.h"
#include "parvm/hw/sifive-test.h"

#define BASE 0x100000

typedef struct Req {
    unsigned n;
    PvTestRequest req;
    int code;
} Req;

static void request(void *opaque, PvTestRequest req, int code)
{
    Req *r = opaque;
    r->n++;
    r->req = req;
    r->code = code;
}

static void test_requests(void)
{
    Fixture f;
    Req r = { 0 };
    uint64_t v;

    fixture_init(&f);
    PvSifiveTest *t = pv_sifive_test_new(&f.vm, request, &r);
    fixture_map(&f, pv_sifive_test_mmio(t), BASE);

    CHECK(address_space_write(&f.as, BASE, 4, 0x5555) == PV_ACCESS_OK);
    CHECK(r.n == 1 && r.req == PV_TEST_POWEROFF && r.code == 0);
    CHECK(address_space_write(&f.as, BASE, 4, 0x7777) == PV_ACCESS_OK);
    CHECK(r.n == 2 && r.req == PV_TEST_RESET);
    CHECK(address_space_write(&f.as, BASE, 4, (42u << 16) | 0x3333) == PV_ACCESS_OK);
    CHECK(r.n == 3 && r.req == PV_TEST_EXIT && r.code == 42);
    CHECK(address_space_write(&f.as, BASE, 4, 0xffff3333u) == PV_ACCESS_OK);
    CHECK(r.n == 4 && r.req == PV_TEST_EXIT && r.code == 0xffff);
    CHECK(address_space_write(&f.as, BASE, 4, 0x3333) == PV_ACCESS_OK);
    CHECK(r.n == 5 && r.req == PV_TEST_EXIT && r.code == 0);
    /* 16 bits are enough, as on QEMU. */
    CHECK(address_space_write(&f.as, BASE, 2, 0x5555) == PV_ACCESS_OK);
    CHECK(r.n == 6 && r.req == PV_TEST_POWEROFF);
    /* Pass with garbage above bit 15 still passes (QEMU masks too). */
    CHECK(address_space_write(&f.as, BASE, 4, 0x12345555) == PV_ACCESS_OK);
    CHECK(r.n == 7 && r.req == PV_TEST_POWEROFF && r.code == 0);

    /* Guest errors: other values, other offsets, bytes. */
    uint64_t e0 = pv_vm_guest_errors(&f.vm);
    CHECK(address_space_write(&f.as, BASE, 4, 0x1234) == PV_ACCESS_OK);
    CHECK(address_space_write(&f.as, BASE + 4, 4, 0x5555) == PV_ACCESS_OK);
    CHECK(address_space_write(&f.as, BASE + 0xffc, 4, 0x3333) == PV_ACCESS_OK);
    CHECK(address_space_write(&f.as, BASE, 1, 0x55) == PV_ACCESS_OK);
    CHECK_EQ_U64(r.n, 7);
    CHECK_EQ_U64(pv_vm_guest_errors(&f.vm) - e0, 4);
    CHECK(address_space_read(&f.as, BASE, 4, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0);

    pv_sifive_test_destroy(t);
    fixture_destroy(&f);
}

PV_TEST_MAIN(
    TEST(test_requests),
)
