/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The decode cache: blocks of decoded instructions keyed by the physical
 * address of their first instruction, per hart, with no lock (only the
 * hart thread touches it).
 *
 * A block never crosses a 4 KiB page and ends at the first instruction
 * that transfers control or needs the outer loop (see
 * riscv_op_ends_block).  Blocks are bump-allocated from one arena; when it
 * is full the whole cache is flushed (from the outer loop, never while a
 * block runs).  A block chains directly to its successors only inside its
 * own page: such a link stays right whatever virtual address the page is
 * mapped at, so TLB flushes need not touch the cache.
 *
 * Self-modifying code: every physical page holding cached code has a
 * CodePage entry with a bitmap of its 64-byte chunks that hold code.  The
 * TLB never allows fast stores to such a page, so every store to it goes
 * through riscv_cache_note_store(); a store that overlaps code unlinks all
 * the page's blocks (they stay allocated: a running block may be one of
 * them) and makes the hart leave its inner loop at the next block boundary.
 * Stores by other harts or devices are not seen: the guest must run
 * fence.i on this hart, as the ISA requires, which flushes the cache.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ARENA_SIZE ((size_t)8 << 20)
#define HASH_BUCKETS (1u << 15)
#define CODE_PAGES (1u << 13)

static unsigned hash_ppc(uint64_t ppc)
{
    return (unsigned)((ppc >> 1) ^ (ppc >> 13));
}

static unsigned hash_page(uint64_t ppage)
{
    uint64_t v = (ppage >> PAGE_BITS) * 0x9E3779B97F4A7C15ull;
    return (unsigned)(v >> 40);
}

bool riscv_cache_init(DecodeCache *c)
{
    memset(c, 0, sizeof(*c));
    c->arena = malloc(ARENA_SIZE);
    c->hash = calloc(HASH_BUCKETS, sizeof(*c->hash));
    c->pages = malloc(CODE_PAGES * sizeof(*c->pages));
    if (!c->arena || !c->hash || !c->pages) {
        riscv_cache_destroy(c);
        return false;
    }
    c->arena_size = ARENA_SIZE;
    c->hash_mask = HASH_BUCKETS - 1;
    c->pages_mask = CODE_PAGES - 1;
    for (unsigned i = 0; i < CODE_PAGES; i++)
        c->pages[i].ppage = TLB_INVALID;
    return true;
}

void riscv_cache_destroy(DecodeCache *c)
{
    free(c->arena);
    free(c->hash);
    free(c->pages);
    memset(c, 0, sizeof(*c));
}

void riscv_cache_flush(RiscvHart *h)
{
    DecodeCache *c = &h->cache;

    c->arena_used = 0;
    memset(c->hash, 0, (c->hash_mask + 1) * sizeof(*c->hash));
    for (unsigned i = 0; i <= c->pages_mask; i++)
        c->pages[i].ppage = TLB_INVALID;
    c->pages_used = 0;
    /* TLB entries left without a write tag simply refill on next store. */
}

Block *riscv_cache_find(const DecodeCache *c, uint64_t ppc)
{
    Block *b = c->hash[hash_ppc(ppc) & c->hash_mask];

    while (b && b->ppc != ppc)
        b = b->hash_next;
    return b;
}

static CodePage *page_lookup(DecodeCache *c, uint64_t ppage, bool insert)
{
    unsigned i = hash_page(ppage) & c->pages_mask;

    for (;;) {
        CodePage *p = &c->pages[i];
        if (p->ppage == ppage)
            return p;
        if (p->ppage == TLB_INVALID) {
            /* Keep the table at most 3/4 full so probes stay short. */
            if (!insert || c->pages_used * 4 >= (c->pages_mask + 1) * 3)
                return NULL;
            c->pages_used++;
            p->ppage = ppage;
            p->chunks = 0;
            p->blocks = NULL;
            return p;
        }
        i = (i + 1) & c->pages_mask;
    }
}

/* Reads the 16-bit parcel at page offset off.  Another hart may be
 * writing this RAM (it is guest memory), hence the atomic load. */
static uint32_t parcel(const uint8_t *host_page, uint64_t off)
{
    return __atomic_load_n((const uint16_t *)(host_page + off),
                           __ATOMIC_RELAXED);
}

Block *riscv_cache_translate(RiscvHart *h, uint64_t ppc,
                             const uint8_t *host_page)
{
    DecodeCache *c = &h->cache;
    uint64_t ppage = ppc & PAGE_MASK;
    uint64_t off = ppc & ~PAGE_MASK;
    uint64_t start = off;
    Insn buf[BLOCK_MAX_INSNS + 1];
    unsigned n = 0;

    CodePage *page = page_lookup(c, ppage, true);
    if (!page) {
        h->flush_code = true; /* too many code pages: start afresh */
        return NULL;
    }

    while (n < BLOCK_MAX_INSNS && off + 2 <= PAGE_SIZE) {
        Insn *d = &buf[n];
        uint32_t lo = parcel(host_page, off);
        if ((lo & 3) == 3) {
            if (off + 4 > PAGE_SIZE)
                break; /* crosses the page: executed uncached */
            riscv_decode32(lo | parcel(host_page, off + 2) << 16, d);
        } else {
            riscv_decode16(lo, d);
        }
        d->pc_off = (uint16_t)(off - start);
        off += d->len;
        n++;
        if (riscv_op_ends_block(d->op))
            break;
    }
    if (n == 0)
        return NULL; /* the first instruction crosses the page */

    size_t bytes = sizeof(Block) + (n + 1) * sizeof(Insn);
    bytes = (bytes + 15) & ~(size_t)15;
    if (c->arena_used + bytes > c->arena_size) {
        h->flush_code = true;
        return NULL;
    }
    Block *b = (Block *)(c->arena + c->arena_used);
    c->arena_used += bytes;

    memset(b, 0, sizeof(*b));
    b->ppc = ppc;
    b->host_page = host_page;
    b->n = n;
    b->end_off = (uint32_t)off;
    memcpy(b->insns, buf, n * sizeof(Insn));
    Insn *end = &b->insns[n];
    memset(end, 0, sizeof(*end));
    end->op = OP_END;
    end->rd = 32;
    end->pc_off = (uint16_t)(off - start);

    unsigned bucket = hash_ppc(ppc) & c->hash_mask;
    b->hash_next = c->hash[bucket];
    c->hash[bucket] = b;

    bool first_code = page->chunks == 0;
    for (uint64_t ch = start / 64; ch <= (off - 1) / 64; ch++)
        page->chunks |= 1ull << ch;
    b->page_next = page->blocks;
    page->blocks = b;
    if (first_code)
        riscv_tlb_drop_write(h, ppage);
    return b;
}

Block *riscv_cache_link(RiscvHart *h, Block *blk, unsigned slot,
                        uint64_t off)
{
    uint64_t ppc = (blk->ppc & PAGE_MASK) | off;
    Block *b = riscv_cache_find(&h->cache, ppc);

    if (!b)
        b = riscv_cache_translate(h, ppc, blk->host_page);
    if (b)
        blk->chain[slot] = b;
    return b;
}

static void unlink_block(DecodeCache *c, Block *b)
{
    Block **pp = &c->hash[hash_ppc(b->ppc) & c->hash_mask];

    while (*pp && *pp != b)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = b->hash_next;
}

bool riscv_cache_note_store(RiscvHart *h, uint64_t pa, unsigned size)
{
    DecodeCache *c = &h->cache;
    CodePage *page = page_lookup(c, pa & PAGE_MASK, false);

    if (!page || page->chunks == 0)
        return false;
    uint64_t off = pa & ~PAGE_MASK;
    uint64_t last = off + size - 1;
    if (last >= PAGE_SIZE)
        last = PAGE_SIZE - 1;
    uint64_t mask = 0;
    for (uint64_t ch = off / 64; ch <= last / 64; ch++)
        mask |= 1ull << ch;
    if (!(page->chunks & mask))
        return true; /* data beside code: still a code page */

    for (Block *b = page->blocks; b; b = b->page_next)
        unlink_block(c, b);
    page->blocks = NULL;
    page->chunks = 0;
    /* Blocks of this page may chain to the unlinked ones: leave the inner
     * loop before following any link. */
    hart_signal_self(h, SIG_LOCAL);
    return false;
}
