/*
 * clock.h -- wall-clock and monotonic time.
 *
 * Owns: the one definition of "now" (UTC milliseconds, as stored in every
 * table) and its ISO-8601 rendering for JSON.
 */
#ifndef KEFU_UTIL_CLOCK_H
#define KEFU_UTIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_now_ms(void);   /* UTC wall clock, milliseconds */
uint64_t clock_mono_us(void); /* monotonic, microseconds */
/* "2026-11-22T14:00:00.123Z"; out must hold 25 bytes. */
void clock_iso8601(int64_t ms, char *out, size_t n);

#endif
