/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's edu test device, driven through an mmap of its BAR 0: registers,
 * one DMA, and the data pattern the tests move with it.
 */
#ifndef LAB_EDU_H
#define LAB_EDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lab_proc.h"

#define EDU_IDENT	0x00
#define EDU_LIVE	0x04
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_TO_RAM	0x2	/* direction: 1 = device to RAM */
#define EDU_BUF		0x40000	/* the device's 4 KiB DMA buffer */
#define EDU_IDENT_RAW	0xed000001u	/* 0x010000ed, byte-swapped */
/* QEMU 7.2 aborts on a transfer of exactly 4096 bytes (off-by-one) */
#define EDU_MAX_XFER	4095u
/* the device's DMA mask is 28 bits */
#define EDU_DMA_LIMIT	(1ull << 28)
#define EDU_DMA_TIMEOUT_MS	10000

/* Registers read byte-swapped on a little-endian host. */
static inline uint32_t edu_rd(volatile uint8_t *bar, unsigned int off)
{
	return __builtin_bswap32(*(volatile uint32_t *)(bar + off));
}

static inline void edu_wr(volatile uint8_t *bar, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(bar + off) = __builtin_bswap32(v);
}

/*
 * One DMA of @len bytes between the start of the device's buffer and bus
 * address @iova, to RAM or from it. 32-bit register writes are enough:
 * edu stores them zero-extended, and every usable address is below its
 * 28-bit mask. Returns 0, -EINVAL (would abort QEMU or be clamped),
 * -EBUSY, -EIO (MMIO reads all ones: device gone) or -ETIMEDOUT.
 */
static inline int edu_dma(volatile uint8_t *bar, uint64_t iova, uint32_t len,
			  bool to_ram)
{
	long t0 = now_ms();
	uint32_t cmd;

	if (len > EDU_MAX_XFER || iova + len > EDU_DMA_LIMIT)
		return -EINVAL;
	if (edu_rd(bar, EDU_DMA_CMD) & EDU_CMD_RUN)
		return -EBUSY;
	edu_wr(bar, EDU_DMA_SRC, to_ram ? EDU_BUF : (uint32_t)iova);
	edu_wr(bar, EDU_DMA_DST, to_ram ? (uint32_t)iova : EDU_BUF);
	edu_wr(bar, EDU_DMA_CNT, len);
	edu_wr(bar, EDU_DMA_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
	for (;;) {
		cmd = edu_rd(bar, EDU_DMA_CMD);
		if (cmd == 0xffffffffu)
			return -EIO;
		if (!(cmd & EDU_CMD_RUN))
			return 0;
		if (now_ms() - t0 > EDU_DMA_TIMEOUT_MS)
			return -ETIMEDOUT;
		usleep(2000);
	}
}

/* @n bytes of a pattern that differs per word and per @seed */
static inline void fill(void *p, size_t n, uint32_t seed)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < n / 4; i++)
		w[i] = seed ^ (uint32_t)(i * 2654435761u);
}

static inline bool filled(const void *p, size_t n, uint32_t seed)
{
	const uint32_t *w = p;
	size_t i;

	for (i = 0; i < n / 4; i++)
		if (w[i] != (seed ^ (uint32_t)(i * 2654435761u)))
			return false;
	return true;
}

#endif
